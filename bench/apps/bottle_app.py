"""Bottle, with its own ``Bottle()`` instance (not the default app) and jinja2_view."""

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


def routes():
    app = bottle.Bottle()

    def static_view(i):
        def view():
            bottle.response.content_type = "text/plain; charset=utf-8"
            return f"static {i}"

        return view

    def dynamic_view(i):
        return lambda id: {"route": i, "id": id}

    for i in range(N_ROUTES):
        app.get(f"/s{i}", callback=static_view(i))
    for i in range(N_ROUTES):
        app.get(f"/r{i}/<id:int>/items", callback=dynamic_view(i))
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
}
