"""The benchmark scenarios: what each one requests and how the answers are compared.

To add a scenario, add a row to ``SCENARIOS`` and a builder of the same name to the
``BUILDERS`` dict of each module in ``apps/`` (a framework without one is skipped).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Scenario(NamedTuple):
    path: str
    status: int
    #: How bodies are compared: "text" (ends stripped), "json" (parsed values),
    #: "html" (all whitespace removed) or "status" (bodies may differ).
    compare: str
    media_type: str | None  # expected Content-Type without parameters; None: not compared
    expect: Any = None  # expected body (str or JSON value); None: as the first framework's
    method: str = "GET"
    query: str = ""  # QUERY_STRING
    body: bytes = b""  # the request body; each call reads a fresh copy
    content_type: str | None = None  # the request's CONTENT_TYPE (with a body)


SCENARIOS: dict[str, Scenario] = {
    "hello": Scenario("/", 200, "text", "text/plain", "Hello, World!"),
    "param_json": Scenario("/users/42", 200, "json", "application/json",
                           {"id": 42, "name": "user42"}),
    "routes200_first": Scenario("/r0/7/items", 200, "json", "application/json",
                                {"route": 0, "id": 7}),
    "routes200": Scenario("/r99/7/items", 200, "json", "application/json",
                          {"route": 99, "id": 7}),
    "routes200_404": Scenario("/nope/1/x", 404, "status", None),
    "template": Scenario("/page", 200, "html", "text/html"),
    # The same answers through an explicit response object (what a handler that sets a
    # cookie or a header writes).
    "hello_response": Scenario("/", 200, "text", "text/plain", "Hello, World!"),
    "routes200_response": Scenario("/r99/7/items", 200, "json", "application/json",
                                   {"route": 99, "id": 7}),
    # A URL-encoded form read with the query string, answered as JSON.
    "query_form": Scenario(
        "/form", 200, "json", "application/json",
        {"page": "2", "sort": "name", "name": "Zoë", "email": "zoe@example.com", "tags": ["a", "b"]},
        method="POST", query="page=2&sort=name",
        body=b"name=Zo%C3%AB&email=zoe%40example.com&tag=a&tag=b",
        content_type="application/x-www-form-urlencoded"),
}

#: Framework name -> (module in bench/apps, package that must be installed).
FRAMEWORKS: dict[str, tuple[str, str | None]] = {
    "raw": ("raw", None),
    "flask": ("flask_app", "flask"),
    "bottle": ("bottle_app", "bottle"),
    "falcon": ("falcon_app", "falcon"),
    "pyramid": ("pyramid_app", "pyramid"),
    "framework": ("onion", "framework"),
}

OURS = "framework"
