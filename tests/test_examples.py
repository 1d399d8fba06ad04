"""Every example is imported and exercised here, the way a user would drive it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import Process, free_port
from webtest import TestApp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `examples` is a namespace package at the repository root
    sys.path.insert(0, str(ROOT))

from examples import hello  # noqa: E402
from examples.todo import app as todo_module  # noqa: E402

JSON = {"Accept": "application/json"}


# -- hello ------------------------------------------------------------------------------


def test_hello_says_hello():
    response = TestApp(hello.app).get("/")
    assert response.status_int == 200
    assert response.content_type == "text/html"
    assert response.text == "Hello, World!"


def test_hello_unknown_path_is_404():
    TestApp(hello.app).get("/nope", status=404)


def test_hello_docstring_runs():
    """The module docstring's ``>>>`` session is true."""
    import doctest

    result = doctest.testmod(hello, verbose=False)
    assert result.attempted >= 2 and result.failed == 0


# -- todo: HTML -------------------------------------------------------------------------


@pytest.fixture
def client():
    return TestApp(todo_module.create_app())


def test_module_level_app_is_built_by_the_factory():
    assert isinstance(todo_module.app, type(todo_module.create_app()))


def test_index_lists_nothing_at_first(client):
    response = client.get("/")
    assert response.status_int == 200
    assert response.content_type == "text/html"
    assert "<title>Todos (0)" in response.text
    assert "Nothing to do" in response.text
    # the template extends the base layout and uses url_for
    assert "<style>" in response.text
    assert 'action="/todos"' in response.text


def test_form_post_adds_redirects_and_lists(client):
    response = client.post("/todos", {"title": "Buy milk"})
    assert response.status_int == 303
    assert response.location in ("/", "http://localhost/", "http://localhost:80/")
    page = response.follow()
    assert page.status_int == 200
    assert "Buy milk" in page.text
    assert "Todos (1)" in page.text


def test_titles_are_html_escaped(client):
    client.post("/todos", {"title": "<script>alert(1)</script>"}, status=303)
    page = client.get("/")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_form_toggle_and_delete(client):
    client.post("/todos", {"title": "Write docs"}, status=303)
    assert '<li class="done">' in client.post("/todos/1/toggle", status=303).follow().text
    assert client.get("/api/todos/1").json["done"] is True
    client.post("/todos/1/toggle", status=303)
    assert client.get("/api/todos/1").json["done"] is False
    page = client.post("/todos/1/delete", status=303).follow()
    assert "Write docs" not in page.text
    client.post("/todos/1/delete", status=404)
    client.post("/todos/1/toggle", status=404)


def test_form_with_empty_title_is_400(client):
    client.post("/todos", {"title": "   "}, status=400)
    client.post("/todos", {}, status=400)
    assert client.get("/api/todos").json == []


# -- todo: JSON -------------------------------------------------------------------------


def test_json_crud_round_trip(client):
    assert client.get("/api/todos").json == []

    created = client.post_json("/api/todos", {"title": "  Ship it  "}, status=201)
    assert created.content_type == "application/json"
    assert created.json == {"id": 1, "title": "Ship it", "done": False}
    assert created.headers["Location"].endswith("/api/todos/1")

    assert client.get("/api/todos/1").json == created.json
    assert client.get("/api/todos").json == [created.json]

    patched = client.patch_json("/api/todos/1", {"done": True, "title": "Shipped"})
    assert patched.json == {"id": 1, "title": "Shipped", "done": True}
    assert client.get("/api/todos/1").json["done"] is True

    deleted = client.delete("/api/todos/1", status=204)
    assert deleted.body == b""
    client.get("/api/todos/1", headers=JSON, status=404)
    assert client.get("/api/todos").json == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"title": ', id="malformed-json"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b"{}", id="missing-title"),
        pytest.param(b'{"title": ""}', id="empty-title"),
        pytest.param(b'{"title": 42}', id="title-not-a-string"),
        pytest.param(b'{"title": "' + b"x" * 201 + b'"}', id="title-too-long"),
    ],
)
def test_bad_create_is_a_json_400(client, body):
    response = client.post(
        "/api/todos",
        body,
        headers={**JSON, "Content-Type": "application/json"},
        status=400,
    )
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert error["status"] == 400
    assert isinstance(error["message"], str) and error["message"]
    assert client.get("/api/todos").json == []


def test_validation_message_is_the_one_given_to_abort(client):
    response = client.post_json("/api/todos", {"title": ""}, headers=JSON, status=400)
    assert response.json == {
        "error": {"status": 400, "message": "The 'title' must be a non-empty string."}
    }


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"done": "yes"}, id="done-not-bool"),
        pytest.param({"title": " "}, id="blank-title"),
        pytest.param({"colour": "red"}, id="unknown-field"),
    ],
)
def test_bad_patch_is_a_json_400(client, body):
    client.post_json("/api/todos", {"title": "Keep me"}, status=201)
    response = client.patch_json("/api/todos/1", body, headers=JSON, status=400)
    assert response.json["error"]["status"] == 400
    assert client.get("/api/todos/1").json == {"id": 1, "title": "Keep me", "done": False}


@pytest.mark.parametrize("method", ["get", "patch_json", "delete"])
def test_unknown_id_is_a_json_404(client, method):
    call = getattr(client, method)
    args = ({"done": True},) if method == "patch_json" else ()
    response = call("/api/todos/99", *args, headers=JSON, status=404)
    assert response.json == {"error": {"status": 404, "message": "There is no todo with id 99."}}


def test_non_integer_id_is_404(client):
    client.get("/api/todos/abc", status=404)


def test_wrong_method_is_405_with_allow(client):
    response = client.put_json("/api/todos/1", {"title": "x"}, status=405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed


def test_the_frameworks_own_client_drives_the_todo_app():
    """The same flows as above through ``app.test_client()`` (no WebTest): forms, JSON, errors."""
    client = todo_module.create_app().test_client()
    added = client.post("/todos", data={"title": "Buy milk"}, follow_redirects=True)
    assert added.status_code == 200 and "Buy milk" in added.text
    assert [step.status_code for step in added.history] == [303]

    created = client.post("/api/todos", json={"title": "Ship it"})
    assert created.status_code == 201
    assert created.json == {"id": 2, "title": "Ship it", "done": False}
    assert client.patch("/api/todos/2", json={"done": True}).json["done"] is True
    assert client.delete("/api/todos/2").status_code == 204

    missing = client.get("/api/todos/2", headers=JSON)
    assert missing.status_code == 404
    assert missing.json == {"error": {"status": 404, "message": "There is no todo with id 2."}}
    assert client.get("/api/todos").json == [{"id": 1, "title": "Buy milk", "done": False}]


def test_todo_docstring_example_runs():
    client = todo_module.create_app().test_client()
    created = client.post("/api/todos", json={"title": "Buy milk"})
    assert created.status_code == 201 and created.json["title"] == "Buy milk"
    assert 'client.post("/api/todos", json={"title": "Buy milk"})' in todo_module.__doc__


def test_stores_are_independent():
    first, second = TestApp(todo_module.create_app()), TestApp(todo_module.create_app())
    first.post_json("/api/todos", {"title": "only here"}, status=201)
    assert second.get("/api/todos").json == []


# -- the README's command, for real ----------------------------------------------------


@pytest.mark.parametrize(
    ("target", "path", "expected"),
    [
        pytest.param("examples.hello:app", "/", "Hello, World!", id="hello"),
        pytest.param("examples.todo.app:app", "/", "Todos (0)", id="todo"),
    ],
)
def test_cli_serves_the_examples(target, path, expected):
    port = free_port()
    server = Process([sys.executable, "-m", "framework", "run", target, "--port", str(port)],
                     cwd=ROOT, wait_for=("127.0.0.1", port), timeout=15)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            assert r.status == 200
            assert expected in r.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=2)
        assert missing.value.code == 404
        missing.value.close()
    finally:
        server.stop()


# -- the showcase: the README's first command ---------------------------------------------

SHOWCASE_COMMAND = ('pip install ".[xslt]" && '
                    "python -m framework run examples.showcase.app:application --port 8000")


def readme_commands() -> list[str]:
    """The lines of the README's first ``sh`` block: the commands a newcomer runs first."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert block is not None, "README.md has no sh block"
    return block.group(1).splitlines()


def test_the_readmes_first_command_serves_the_showcase_and_the_second_runs_the_tests():
    """.ci/run runs the second line as written; the first is the one this file serves below."""
    assert readme_commands()[:2] == [SHOWCASE_COMMAND, 'pip install ".[test]" && python -m pytest']


def test_cli_serves_the_showcase_as_the_readme_says():
    """The README's first command (after its ``pip install``), for real: pages, static, feed, API."""
    import gzip
    import re

    target = SHOWCASE_COMMAND.split(" && ", 1)[1].split()[4]
    port = free_port()
    server = Process([sys.executable, "-m", "framework", "run", target, "--port", str(port)],
                     cwd=ROOT, wait_for=("127.0.0.1", port), timeout=30)
    base = f"http://127.0.0.1:{port}"
    try:
        home = urllib.request.Request(base + "/", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(home, timeout=15) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            page = gzip.decompress(r.read()).decode("utf-8")
        assert "Every layer, one site" in page
        css = re.search(r'href="(/static/site\.[0-9a-f]{8}\.css)"', page)
        assert css is not None, page
        with urllib.request.urlopen(base + css.group(1), timeout=15) as r:
            assert "immutable" in r.headers["Cache-Control"]
        feed = urllib.request.Request(base + "/feed.xml", headers={"Accept": "text/html"})
        with urllib.request.urlopen(feed, timeout=15) as r:
            assert r.headers["Content-Type"].startswith("text/html")
        feed = urllib.request.Request(base + "/feed.xml", headers={"Accept": "application/rss+xml"})
        with urllib.request.urlopen(feed, timeout=15) as r:
            assert r.headers["Content-Type"].startswith("application/rss+xml")
        api = urllib.request.Request(base + "/api/whoami",
                                     headers={"Authorization": "Bearer showcase-demo-token"})
        with urllib.request.urlopen(api, timeout=15) as r:
            assert json.loads(r.read()) == {"user": "robot", "auth": "Bearer"}
            assert r.headers["RateLimit"].startswith('"/api";r=9;')
    finally:
        server.stop()


def test_cli_lists_the_todo_routes():
    result = subprocess.run(
        [sys.executable, "-m", "framework", "routes", "examples.todo.app:app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    for name, rule in [
        ("index", "/"),
        ("add_todo", "/todos"),
        ("api_get", "/api/todos/<int:todo_id>"),
        ("api_delete", "/api/todos/<int:todo_id>"),
    ]:
        assert name in result.stdout and rule in result.stdout


def test_multiapp_serves_all_three_apps():
    """examples/multiapp.py: home, Flask and Django in one Mount (fuller tests: tests/middleware)."""
    from framework.testing import validated

    for needed in ("flask", "django"):
        try:
            __import__(needed)
        except ImportError:  # pragma: no cover - the [test] extra installs both
            pytest.fail(f"{needed} is needed for examples/multiapp.py: pip install '.[test]'")
    from examples import multiapp

    client = TestApp(validated(multiapp.application))
    assert client.get("/").status_int == 200
    assert client.get("/flask/").status_int == 200
    assert "/django/" in client.get("/django/").text


# -- secure: one login for our app, Flask and Django ------------------------------------


def test_secure_example_in_a_process_of_its_own():
    """examples/secure.py through WebTest and the validator: ``tests/secure_checks.py``.

    Django takes one configuration per process, and examples/multiapp.py (imported by
    the test above and by tests/middleware) configures it for itself; the secure
    example's Django app needs its own (``RemoteUserMiddleware``, the auth apps). So
    its checks run in a fresh interpreter, and each of them is reported on failure.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "secure_checks.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]


def test_cli_serves_the_secure_example():
    """``python -m framework run examples.secure:application``: the README's way to try it."""
    port = free_port()
    server = Process([sys.executable, "-m", "framework", "run", "examples.secure:application",
                      "--port", str(port)], cwd=ROOT, wait_for=("127.0.0.1", port), timeout=30)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
            assert r.status == 200
            assert 'name="csrf_token"' in r.read().decode("utf-8")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/whoami",
                                         headers={"Authorization": "Bearer demo-api-token"})
        with urllib.request.urlopen(request, timeout=5) as r:
            assert json.loads(r.read()) == {"user": "api-bot", "auth": "Bearer"}
    finally:
        server.stop()


# -- api: TokenAuth + a per-user RateLimit ------------------------------------------------


ALICE = {"Authorization": "Bearer alice-demo-token", "Accept": "application/json"}
BOB = {"Authorization": "Bearer bob-demo-token", "Accept": "application/json"}


@pytest.fixture
def api_client():
    """examples/api.py with a fresh memory storage and a limit of 3 a minute per user."""
    from examples import api
    from framework.testing import validated

    return TestApp(validated(api.create_app(limit="3/minute", storage="memory://")))


def test_api_user_gets_exactly_the_limit_then_429(api_client):
    import re

    for remaining in (2, 1, 0):
        response = api_client.get("/api/whoami", headers=ALICE)
        assert response.json == {"user": "alice"}
        assert response.headers["RateLimit-Policy"] == '"default";q=3;w=60'
        assert re.fullmatch(rf'"default";r={remaining};t=\d+', response.headers["RateLimit"])
    refused = api_client.get("/api/whoami", headers=ALICE, status=429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Policy"] == '"default";q=3;w=60'
    assert re.fullmatch(r'"default";r=0;t=\d+', refused.headers["RateLimit"])
    assert refused.content_type == "application/json"


def test_api_counts_each_user_apart(api_client):
    for _ in range(3):
        api_client.get("/api/items", headers=ALICE)
    api_client.get("/api/items", headers=ALICE, status=429)
    response = api_client.get("/api/items", headers=BOB)
    assert len(response.json["items"]) == 3
    assert response.headers["RateLimit"].startswith('"default";r=2;')


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="no-token"),
    pytest.param({"Authorization": "Bearer not-a-demo-token"}, id="wrong-token"),
])
def test_api_without_a_valid_token_is_401_and_not_counted(api_client, headers):
    for _ in range(5):
        refused = api_client.get("/api/whoami", headers=headers | JSON, status=401)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert api_client.get("/api/whoami", headers=ALICE).json == {"user": "alice"}


def test_api_storage_comes_from_redis_url():
    """``REDIS_URL`` names the storage of the module-level app (memory:// when unset)."""
    code = ("import examples.api as a; print(a.STORAGE); "
            "print(a.application.describe())")
    env = {k: v for k, v in __import__("os").environ.items() if k != "REDIS_URL"}
    unset = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.splitlines()[0] == "memory://"
    named = subprocess.run([sys.executable, "-c", "import examples.api as a; print(a.STORAGE)"],
                           cwd=ROOT, env=env | {"REDIS_URL": "redis://127.0.0.1:1/0"},
                           capture_output=True, text=True, timeout=60)
    assert named.returncode == 0, named.stderr
    assert named.stdout.strip() == "redis://127.0.0.1:1/0"


def test_api_under_gunicorn_4_workers_with_redis_is_exact():
    """The README's command: ``REDIS_URL=... gunicorn -w 4 examples.api:application``.

    40 concurrent requests from one user, spread over 4 worker processes, against a
    limit of 12: exactly 12 pass (a memory storage would let up to 48 through).
    """
    from concurrent.futures import ThreadPoolExecutor

    from support import RedisServer

    redis = RedisServer()
    port = free_port()
    try:
        server = Process([sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
                          "examples.api:application"], cwd=ROOT,
                         env={"REDIS_URL": f"{redis.url}/0", "RATE_LIMIT": "12/minute"},
                         wait_for=("127.0.0.1", port), timeout=60)
        try:
            def call(_: int) -> int:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/api/whoami", headers=ALICE)
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        return response.status
                except urllib.error.HTTPError as error:
                    error.close()
                    return error.code

            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(call, range(40)))
            assert statuses.count(200) == 12 and statuses.count(429) == 28, statuses
            bob = urllib.request.Request(f"http://127.0.0.1:{port}/api/whoami", headers=BOB)
            with urllib.request.urlopen(bob, timeout=10) as response:
                assert json.loads(response.read()) == {"user": "bob"}
        finally:
            server.stop()
    finally:
        redis.stop()
