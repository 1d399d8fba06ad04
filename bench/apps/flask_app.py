"""Flask, as its quickstart writes it: decorators, dicts returned as JSON, render_template."""

from flask import Flask, Response, jsonify, render_template, request

from . import ITEMS, N_ROUTES, TITLE


def hello():
    app = Flask(__name__)

    @app.get("/")
    def index():
        return "Hello, World!", {"Content-Type": "text/plain; charset=utf-8"}

    return app


def param_json():
    app = Flask(__name__)

    @app.get("/users/<int:user_id>")
    def user(user_id):
        return {"id": user_id, "name": f"user{user_id}"}

    return app


def _routes(static_view, dynamic_view):
    """The 200 rules of the routes scenarios: /s{i} static, /r{i}/<id>/items dynamic."""
    app = Flask(__name__)
    for i in range(N_ROUTES):
        app.add_url_rule(f"/s{i}", f"s{i}", static_view(i), methods=["GET"])
    for i in range(N_ROUTES):
        app.add_url_rule(f"/r{i}/<int:id>/items", f"r{i}", dynamic_view(i), methods=["GET"])
    return app


def routes():
    def static_view(i):
        return lambda: f"static {i}"

    def dynamic_view(i):
        return lambda id: {"route": i, "id": id}

    return _routes(static_view, dynamic_view)


def hello_response():
    app = Flask(__name__)

    @app.get("/")
    def index():
        return Response("Hello, World!", mimetype="text/plain")

    return app


def routes_response():
    def static_view(i):
        return lambda: Response(f"static {i}", mimetype="text/plain")

    def dynamic_view(i):
        return lambda id: jsonify(route=i, id=id)

    return _routes(static_view, dynamic_view)


def query_form():
    app = Flask(__name__)

    @app.post("/form")
    def form():
        args, fields = request.args, request.form
        return {"page": args.get("page"), "sort": args.get("sort"), "name": fields.get("name"),
                "email": fields.get("email"), "tags": fields.getlist("tag")}

    return app


def template():
    app = Flask(__name__)  # templates/ next to this module

    @app.get("/page")
    def page():
        return render_template("page.html", title=TITLE, items=ITEMS)

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
