"""Ours: ``framework.App``, written as API.md shows it."""

from framework import App, Response
from framework.responses import json_response

from . import ITEMS, N_ROUTES, TITLE


def hello():
    app = App(__name__)

    @app.get("/")
    def index(request):
        return "Hello, World!", {"Content-Type": "text/plain; charset=utf-8"}

    return app


def param_json():
    app = App(__name__)

    @app.get("/users/<int:user_id>")
    def user(request, user_id):
        return {"id": user_id, "name": f"user{user_id}"}

    return app


def _routes(static_view, dynamic_view):
    """The 200 rules of the routes scenarios: /s{i} static, /r{i}/<id>/items dynamic."""
    app = App(__name__)
    for i in range(N_ROUTES):
        app.route(f"/s{i}", methods=["GET"], name=f"s{i}")(static_view(i))
    for i in range(N_ROUTES):
        app.route(f"/r{i}/<int:id>/items", methods=["GET"], name=f"r{i}")(dynamic_view(i))
    return app


def routes():
    def static_view(i):
        return lambda request: (f"static {i}", {"Content-Type": "text/plain; charset=utf-8"})

    def dynamic_view(i):
        return lambda request, id: {"route": i, "id": id}

    return _routes(static_view, dynamic_view)


def hello_response():
    app = App(__name__)

    @app.get("/")
    def index(request):
        return Response("Hello, World!", mimetype="text/plain")

    return app


def routes_response():
    def static_view(i):
        return lambda request: Response(f"static {i}", mimetype="text/plain")

    def dynamic_view(i):
        return lambda request, id: json_response({"route": i, "id": id})

    return _routes(static_view, dynamic_view)


def query_form():
    app = App(__name__)

    @app.post("/form")
    def form(request):
        args, fields = request.args, request.form
        return {"page": args.get("page"), "sort": args.get("sort"), "name": fields.get("name"),
                "email": fields.get("email"), "tags": fields.getlist("tag")}

    return app


def template():
    app = App(__name__)  # templates/ next to this module

    @app.get("/page")
    def page(request):
        return app.render("page.html", title=TITLE, items=ITEMS)

    return app


BUILDERS = {
    "hello": hello,
    "param_json": param_json,
    "routes200_first": routes,
    "routes200": routes,
    "routes200_404": routes,
    "template": template,
    "hello_response": hello_response,
    "routes200_response": routes_response,
    "query_form": query_form,
}
