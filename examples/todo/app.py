"""A small todo list: an HTML page with forms, and a JSON API over the same store.

Run it from the repository root::

    python -m framework run examples.todo.app:app --port 8000

HTML (forms post, then redirect with 303 "See Other")::

    GET  /                          the list, with a form to add a todo
    POST /todos                     add (form field ``title``)
    POST /todos/<id>/toggle         mark done / not done
    POST /todos/<id>/delete         remove

JSON::

    GET    /api/todos               [{"id": 1, "title": "...", "done": false}, ...]
    POST   /api/todos               {"title": "..."} -> 201 with the new todo
    GET    /api/todos/<id>          one todo, 404 if unknown
    PATCH  /api/todos/<id>          {"title": "...", "done": true} (either or both)
    DELETE /api/todos/<id>          204

Bad input is answered with the framework's JSON error,
``{"error": {"status": 400, "message": "..."}}``, when the client accepts JSON.

In a test, with the framework's own client::

    client = create_app().test_client()
    created = client.post("/api/todos", json={"title": "Buy milk"})
    assert created.status_code == 201 and created.json["title"] == "Buy milk"
"""

from __future__ import annotations

import threading
from typing import Any

from framework import App, Response, abort, redirect

MAX_TITLE_LENGTH = 200


class TodoStore:
    """Todos in memory: a plain dict guarded by a lock, as the server may be threaded.

    Every method returns copies, so callers never touch the stored dicts unlocked.
    """

    def __init__(self) -> None:
        self._todos: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(todo) for todo in self._todos.values()]

    def get(self, todo_id: int) -> dict[str, Any] | None:
        with self._lock:
            todo = self._todos.get(todo_id)
            return None if todo is None else dict(todo)

    def add(self, title: str) -> dict[str, Any]:
        with self._lock:
            todo = {"id": self._next_id, "title": title, "done": False}
            self._todos[self._next_id] = todo
            self._next_id += 1
            return dict(todo)

    def update(self, todo_id: int, **changes: Any) -> dict[str, Any] | None:
        with self._lock:
            todo = self._todos.get(todo_id)
            if todo is None:
                return None
            todo.update(changes)
            return dict(todo)

    def toggle(self, todo_id: int) -> dict[str, Any] | None:
        with self._lock:
            todo = self._todos.get(todo_id)
            if todo is None:
                return None
            todo["done"] = not todo["done"]
            return dict(todo)

    def delete(self, todo_id: int) -> bool:
        with self._lock:
            return self._todos.pop(todo_id, None) is not None


def clean_title(value: object) -> str:
    """Return the stripped title, or end the request with a 400 that says what is wrong."""
    if not isinstance(value, str) or not value.strip():
        abort(400, "The 'title' must be a non-empty string.")
    title = value.strip()
    if len(title) > MAX_TITLE_LENGTH:
        abort(400, f"The 'title' must be at most {MAX_TITLE_LENGTH} characters long.")
    return title


def json_object(request) -> dict[str, Any]:
    """The request's JSON body, which must be an object (malformed JSON is a 400 already)."""
    data = request.json
    if not isinstance(data, dict):
        abort(400, 'The request body must be a JSON object, e.g. {"title": "Buy milk"}.')
    return data


def create_app() -> App:
    """Build a todo app with its own, empty store (each test gets a fresh one)."""
    app = App(__name__)
    store = TodoStore()

    # -- HTML -------------------------------------------------------------------------

    @app.get("/")
    def index(request):
        return app.render("index.html", todos=store.list())

    @app.post("/todos")
    def add_todo(request):
        store.add(clean_title(request.form.get("title")))
        return redirect(request.url_for("index"), 303)

    @app.post("/todos/<int:todo_id>/toggle")
    def toggle_todo(request, todo_id):
        if store.toggle(todo_id) is None:
            abort(404)
        return redirect(request.url_for("index"), 303)

    @app.post("/todos/<int:todo_id>/delete")
    def delete_todo(request, todo_id):
        if not store.delete(todo_id):
            abort(404)
        return redirect(request.url_for("index"), 303)

    # -- JSON -------------------------------------------------------------------------

    @app.get("/api/todos")
    def api_list(request):
        return store.list()

    @app.post("/api/todos")
    def api_create(request):
        todo = store.add(clean_title(json_object(request).get("title")))
        location = request.url_for("api_get", todo_id=todo["id"])
        return todo, 201, {"Location": location}

    @app.get("/api/todos/<int:todo_id>")
    def api_get(request, todo_id):
        todo = store.get(todo_id)
        if todo is None:
            abort(404, f"There is no todo with id {todo_id}.")
        return todo

    @app.patch("/api/todos/<int:todo_id>")
    def api_update(request, todo_id):
        data = json_object(request)
        unknown = sorted(set(data) - {"title", "done"})
        if unknown:
            abort(400, f"Unknown field(s): {', '.join(unknown)}; use 'title' and 'done'.")
        changes: dict[str, Any] = {}
        if "title" in data:
            changes["title"] = clean_title(data["title"])
        if "done" in data:
            if not isinstance(data["done"], bool):
                abort(400, "The 'done' field must be true or false.")
            changes["done"] = data["done"]
        todo = store.update(todo_id, **changes)
        if todo is None:
            abort(404, f"There is no todo with id {todo_id}.")
        return todo

    @app.delete("/api/todos/<int:todo_id>")
    def api_delete(request, todo_id):
        if not store.delete(todo_id):
            abort(404, f"There is no todo with id {todo_id}.")
        response = Response(status=204)
        # RFC 9110, section 15.3.5: a 204 carries no content, so no Content-Type either.
        del response.headers["Content-Type"]
        return response

    return app


app = create_app()


if __name__ == "__main__":
    app.run(debug=True)
