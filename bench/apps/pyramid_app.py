"""Pyramid: a Configurator with add_route/add_view, renderer="json", a Jinja2 Environment."""

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pyramid.config import Configurator
from pyramid.response import Response

from . import ITEMS, N_ROUTES, TEMPLATES, TITLE


def hello_view(request):
    return Response("Hello, World!", content_type="text/plain")


def user_view(request):
    user_id = int(request.matchdict["user_id"])
    return {"id": user_id, "name": f"user{user_id}"}


def hello():
    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello_view, route_name="hello", request_method="GET")
    return config.make_wsgi_app()


def param_json():
    with Configurator() as config:
        config.add_route("user", r"/users/{user_id:\d+}")
        config.add_view(user_view, route_name="user", request_method="GET", renderer="json")
    return config.make_wsgi_app()


def _routes(dynamic_view, renderer=None):
    """The 200 rules of the routes scenarios: /s{i} static, /r{i}/<id>/items dynamic."""
    def static_view(i):
        return lambda request: Response(f"static {i}", content_type="text/plain")

    with Configurator() as config:
        for i in range(N_ROUTES):
            config.add_route(f"s{i}", f"/s{i}")
            config.add_view(static_view(i), route_name=f"s{i}", request_method="GET")
        for i in range(N_ROUTES):
            config.add_route(f"r{i}", rf"/r{i}/{{id:\d+}}/items")
            config.add_view(dynamic_view(i), route_name=f"r{i}", request_method="GET",
                            renderer=renderer)
    return config.make_wsgi_app()


def routes():
    return _routes(lambda i: lambda request: {"route": i, "id": int(request.matchdict["id"])},
                   renderer="json")


def routes_response():
    return _routes(lambda i: lambda request: Response(
        json_body={"route": i, "id": int(request.matchdict["id"])}))


def form_view(request):
    query, fields = request.GET, request.POST
    return {"page": query.get("page"), "sort": query.get("sort"), "name": fields.get("name"),
            "email": fields.get("email"), "tags": fields.getall("tag")}


def query_form():
    with Configurator() as config:
        config.add_route("form", "/form")
        config.add_view(form_view, route_name="form", request_method="POST", renderer="json")
    return config.make_wsgi_app()


def template():
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    page = env.get_template("page.html")

    def page_view(request):
        return Response(page.render(title=TITLE, items=ITEMS))  # text/html by default

    with Configurator() as config:
        config.add_route("page", "/page")
        config.add_view(page_view, route_name="page", request_method="GET")
    return config.make_wsgi_app()


BUILDERS = {
    "hello": hello,
    "param_json": param_json,
    "routes200_first": routes,
    "routes200": routes,
    "routes200_404": routes,
    "template": template,
    "hello_response": hello,  # hello already answers with an explicit Response
    "routes200_response": routes_response,
    "query_form": query_form,
}
