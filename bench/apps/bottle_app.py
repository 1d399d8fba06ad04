"""Bottle, with its own ``Bottle()`` instance (not the default app) and jinja2_view."""

import json

import bottle

from . import ITEMS, N_ROUTES, TEMPLATES, TITLE

LOOKUP = [str(TEMPLATES)]  # one list: bottle caches compiled templates by its id()


def hello():
    app = bottle.Bottle()

    @app.get("/")
    def index():
        bottle.response.content_type = "text/plain; charset=utf-8"
        return "Hello, World!"

    return app


def param_json():
    app = bottle.Bottle()

    @app.get("/users/<user_id:int>")
    def user(user_id):
        return {"id": user_id, "name": f"user{user_id}"}

    return app


def _routes(static_view, dynamic_view):
    """The 200 rules of the routes scenarios: /s{i} static, /r{i}/<id>/items dynamic."""
    app = bottle.Bottle()
    for i in range(N_ROUTES):
        app.get(f"/s{i}", callback=static_view(i))
    for i in range(N_ROUTES):
        app.get(f"/r{i}/<id:int>/items", callback=dynamic_view(i))
    return app


def routes():
    def static_view(i):
        def view():
            bottle.response.content_type = "text/plain; charset=utf-8"
            return f"static {i}"

        return view

    def dynamic_view(i):
        return lambda id: {"route": i, "id": id}

    return _routes(static_view, dynamic_view)


def hello_response():
    app = bottle.Bottle()

    @app.get("/")
    def index():
        return bottle.HTTPResponse("Hello, World!",
                                   headers={"Content-Type": "text/plain; charset=utf-8"})

    return app


def routes_response():
    def static_view(i):
        return lambda: bottle.HTTPResponse(
            f"static {i}", headers={"Content-Type": "text/plain; charset=utf-8"})

    def dynamic_view(i):
        return lambda id: bottle.HTTPResponse(json.dumps({"route": i, "id": id}),
                                              headers={"Content-Type": "application/json"})

    return _routes(static_view, dynamic_view)


def query_form():
    app = bottle.Bottle()

    @app.post("/form")
    def form():
        query, fields = bottle.request.query, bottle.request.forms.decode()  # UTF-8 values
        return {"page": query.page, "sort": query.sort, "name": fields.get("name"),
                "email": fields.get("email"), "tags": fields.getall("tag")}

    return app


def template():
    app = bottle.Bottle()

    @app.get("/page")
    @bottle.jinja2_view("page.html", template_lookup=LOOKUP,
                        template_settings={"autoescape": True})
    def page():
        return {"title": TITLE, "items": ITEMS}

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
