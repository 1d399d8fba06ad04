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
