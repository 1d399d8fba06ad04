"""Plain WSGI functions: the floor, what the harness and the work cost with no framework."""

import json
import re
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import ITEMS, N_ROUTES, TEMPLATES, TITLE

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


def respond(start_response, status, content_type, body):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def not_found(start_response):
    return respond(start_response, "404 Not Found", TEXT, b"Not Found")


def hello():
    def app(environ, start_response):
        if environ["PATH_INFO"] != "/":
            return not_found(start_response)
        return respond(start_response, "200 OK", TEXT, b"Hello, World!")

    return app


def param_json():
    user = re.compile(r"/users/(\d+)\Z")

    def app(environ, start_response):
        match = user.match(environ["PATH_INFO"])
        if match is None:
            return not_found(start_response)
        user_id = int(match[1])
        body = json.dumps({"id": user_id, "name": f"user{user_id}"}).encode()
        return respond(start_response, "200 OK", JSON, body)

    return app


def routes():
    # Static paths in a dict; the dynamic rules in one alternation whose group number
    # says which rule matched (what Bottle's router does), as a hand-written app would.
    static = {f"/s{i}": f"static {i}".encode() for i in range(N_ROUTES)}
    dynamic = re.compile("|".join(rf"/r{i}/(\d+)/items\Z" for i in range(N_ROUTES)))

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path in static:
            return respond(start_response, "200 OK", TEXT, static[path])
        match = dynamic.match(path)
        if match is None:
            return not_found(start_response)
        route = match.lastindex - 1
        body = json.dumps({"route": route, "id": int(match[route + 1])}).encode()
        return respond(start_response, "200 OK", JSON, body)

    return app


def query_form():
    def app(environ, start_response):
        if environ["PATH_INFO"] != "/form":
            return not_found(start_response)
        args = parse_qs(environ["QUERY_STRING"])
        length = int(environ.get("CONTENT_LENGTH") or 0)
        fields = parse_qs(environ["wsgi.input"].read(length).decode())
        body = json.dumps({"page": args["page"][0], "sort": args["sort"][0],
                           "name": fields["name"][0], "email": fields["email"][0],
                           "tags": fields["tag"]}).encode()
        return respond(start_response, "200 OK", JSON, body)

    return app


def template():
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    page = env.get_template("page.html")

    def app(environ, start_response):
        if environ["PATH_INFO"] != "/page":
            return not_found(start_response)
        body = page.render(title=TITLE, items=ITEMS).encode()
        return respond(start_response, "200 OK", "text/html; charset=utf-8", body)

    return app


BUILDERS = {
    "hello": hello,
    "param_json": param_json,
    "routes200_first": routes,
    "routes200": routes,
    "routes200_404": routes,
    "template": template,
    "hello_response": hello,  # a raw app has no response object: the same as hello
    "routes200_response": routes,
    "query_form": query_form,
}
