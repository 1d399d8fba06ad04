"""framework/context.py: flash messages across requests, the CSRF token, and their template globals."""

from __future__ import annotations

import pytest

import framework
from framework import App, Request, flash, redirect
from framework.context import csrf_token, get_flashed_messages
from framework.templating import request_globals
from framework.testing import TestClient, validated
from middleware.sessions import Sessions

PAGE = ("{% for category, message in get_flashed_messages(with_categories=true) %}"
        "[{{ category }}:{{ message }}]{% endfor %}|{{ get_flashed_messages() | length }}"
        "|{{ get_flashed_messages(category_filter=['error']) | join(',') }}")
FORM = '<input name="csrf_token" value="{{ csrf_token() }}">'


def make_app(folder) -> App:
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    (folder / "form.html").write_text(FORM, encoding="utf-8")
    app = App(__name__, template_folder=str(folder))

    @app.post("/flash")
    def post(request):
        for item in request.json:
            flash(request, *item)
        return redirect("/page")

    @app.get("/page")
    def page(request):
        return app.render("page.html")

    @app.get("/twice")
    def twice(request):
        first = get_flashed_messages(request, with_categories=True)
        flash(request, "later")  # after the first read: kept for the next request
        return {"first": first, "second": get_flashed_messages(request, with_categories=True),
                "messages": get_flashed_messages(request)}

    @app.get("/form")
    def form(request):
        return app.render("form.html")

    return app


@pytest.fixture
def browser(tmp_path):
    return TestClient(validated(Sessions(make_app(tmp_path), secret_key="k")))


def environ_with(**extra):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "x", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http"}
    environ.update(extra)
    return environ


def test_flash_is_exported():
    assert framework.flash is flash and "flash" in framework.__all__


def test_flash_across_a_redirect(browser):
    response = browser.post("/flash", json=[["Saved."], ["Oops.", "error"]])
    assert response.status_code == 302 and response.headers["Location"] == "/page"
    assert browser.get("/page").text == "[message:Saved.][error:Oops.]|2|Oops."
    assert browser.get("/page").text == "|0|"  # gone after the request that showed them


def test_the_same_messages_for_every_call_in_a_request(browser):
    browser.post("/flash", json=[["one"], ["two", "warning"]])
    answer = browser.get("/twice").json
    pairs = [["message", "one"], ["warning", "two"]]
    assert answer == {"first": pairs, "second": pairs, "messages": ["one", "two"]}
    assert browser.get("/twice").json["first"] == [["message", "later"]]


def test_flashes_survive_a_request_that_does_not_read_them(browser):
    browser.post("/flash", json=[["kept"]])
    browser.get("/form")  # renders no messages: they wait
    assert browser.get("/page").text == "[message:kept]|1|"


@pytest.mark.parametrize(
    ("with_categories", "category_filter", "expected"),
    [
        pytest.param(False, (), ["a", "b", "c"], id="all"),
        pytest.param(True, (), [("message", "a"), ("error", "b"), ("info", "c")], id="with-categories"),
        pytest.param(False, ["error"], ["b"], id="filter"),
        pytest.param(False, "error", ["b"], id="filter-one-string"),
        pytest.param(True, ("error", "info"), [("error", "b"), ("info", "c")], id="filter-with-categories"),
        pytest.param(False, ["missing"], [], id="filter-nothing"),
    ],
)
def test_categories_and_filter(with_categories, category_filter, expected):
    session = {"_flashes": [["message", "a"], ["error", "b"], ["info", "c"]]}
    request = Request(environ_with(**{"framework.session": session}))
    assert get_flashed_messages(request, with_categories, category_filter) == expected
    assert session == {}  # taken out of the session on the first call
    assert get_flashed_messages(request, with_categories, category_filter) == expected


def test_flash_stores_json_pairs_in_the_session():
    session: dict = {}
    request = Request(environ_with(**{"framework.session": session}))
    flash(request, "hello")
    flash(request, "careful", category="warning")
    assert session == {"_flashes": [["message", "hello"], ["warning", "careful"]]}


def test_flash_needs_a_session():
    with pytest.raises(RuntimeError, match="wrap the app in a sessions layer"):
        flash(Request(environ_with()), "hi")


def test_no_session_means_no_messages():
    request = Request(environ_with())
    assert get_flashed_messages(request) == []
    assert request.environ["framework.flashes"] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("tok123", "tok123", id="string"),
        pytest.param(lambda: "made-late", "made-late", id="callable"),
    ],
)
def test_csrf_token(value, expected):
    assert csrf_token(Request(environ_with(**{"framework.csrf_token": value}))) == expected


def test_csrf_token_without_a_layer_says_what_is_missing():
    with pytest.raises(RuntimeError, match=r"environ\['framework.csrf_token'\]"):
        csrf_token(Request(environ_with()))


def test_csrf_token_in_a_template(tmp_path):
    app = make_app(tmp_path)

    def outer(environ, start_response):  # what a login layer does
        environ["framework.csrf_token"] = "abc<&>"
        return app(environ, start_response)

    outer.app = app
    response = TestClient(validated(outer)).get("/form")
    assert response.text == '<input name="csrf_token" value="abc&lt;&amp;&gt;">'
    assert TestClient(validated(app)).get("/form").status_code == 500  # no token: the page fails


def test_rendered_outside_a_request(tmp_path):
    app = make_app(tmp_path)
    assert app.render("page.html").get_data(as_text=True) == "|0|"
    with pytest.raises(RuntimeError, match="outside a request"):
        app.render("form.html").get_data()
    assert request_globals(None)["get_flashed_messages"](with_categories=True) == []


def test_context_keys_win_over_the_globals(tmp_path):
    app = make_app(tmp_path)
    response = app.render("form.html", csrf_token=lambda: "given")
    assert response.get_data(as_text=True) == '<input name="csrf_token" value="given">'


def test_the_apps_own_jinja_globals_win(tmp_path):
    app = make_app(tmp_path)
    app.jinja_env.globals["get_flashed_messages"] = lambda **options: [("info", "from the app")]
    assert app.render("page.html").get_data(as_text=True).startswith("[info:from the app]|1|")
