"""Falcon: resources with on_get responders, resp.text / resp.media, a Jinja2 Environment."""

import falcon
from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import ITEMS, N_ROUTES, TEMPLATES, TITLE


class Hello:
    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class User:
    def on_get(self, req, resp, user_id):
        resp.media = {"id": user_id, "name": f"user{user_id}"}


class Static:
    def __init__(self, i):
        self.text = f"static {i}"

    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = self.text


class Items:
    def __init__(self, i):
        self.route = i

    def on_get(self, req, resp, id):
        resp.media = {"route": self.route, "id": id}


class Page:
    def __init__(self):
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
        self.page = env.get_template("page.html")

    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.page.render(title=TITLE, items=ITEMS)


class Form:
    def on_post(self, req, resp):
        fields = req.get_media()  # the URL-encoded form, repeated names as lists
        resp.media = {"page": req.get_param("page"), "sort": req.get_param("sort"),
                      "name": fields.get("name"), "email": fields.get("email"),
                      "tags": fields.get("tag")}


def query_form():
    app = falcon.App()
    app.add_route("/form", Form())
    return app


def hello():
    app = falcon.App()
    app.add_route("/", Hello())
    return app


def param_json():
    app = falcon.App()
    app.add_route("/users/{user_id:int}", User())
    return app


def routes():
    app = falcon.App()
    for i in range(N_ROUTES):
        app.add_route(f"/s{i}", Static(i))
    for i in range(N_ROUTES):
        app.add_route(f"/r{i}/{{id:int}}/items", Items(i))
    return app


def template():
    app = falcon.App()
    app.add_route("/page", Page())
    return app


BUILDERS = {
    "hello": hello,
    "param_json": param_json,
    "routes200_first": routes,
    "routes200": routes,
    "routes200_404": routes,
    "template": template,
    # resp.text / resp.media already set an explicit response object: the same apps.
    "hello_response": hello,
    "routes200_response": routes,
    "query_form": query_form,
}
