"""app.render: template folders, autoescaping, built-in fallbacks, request and url_for."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid

import jinja2
import pytest
import webtest

from framework import App, Response

TEMPLATES = {
    "hello.html": "<p>Hello {{ name }}!</p>",
    "hello.txt": "Hello {{ name }}!",
    "feed.xml": "<title>{{ name }}</title>",
    "both.html": "{{ template }}|{{ name }}",
    "links.html": ("{{ request.path }}|{{ request.script_root }}|{{ url_for('item', item_id=7) }}"),
}


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A real module in tmp_path with a templates/ folder beside it; returns its App."""
    name = f"tplsite_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            from framework import App

            app = App(__name__)

            @app.get("/items/<int:item_id>", name="item")
            def item(request, item_id):
                return app.render("links.html")

            @app.get("/hello")
            def hello(request):
                return app.render("hello.html", name=request.args.get("name", ""))
            """
        )
    )
    folder = tmp_path / "templates"
    folder.mkdir()
    for filename, source in TEMPLATES.items():
        (folder / filename).write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    yield module.app
    sys.modules.pop(name, None)


def render_text(response):
    assert isinstance(response, Response)
    return response.get_data(as_text=True)


def test_render_uses_the_modules_template_folder(site):
    response = site.render("hello.html", name="Ada")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert render_text(response) == "<p>Hello Ada!</p>"


def test_render_with_an_explicit_template_folder(tmp_path):
    folder = tmp_path / "views"
    folder.mkdir()
    (folder / "page.html").write_text("<b>{{ word }}</b>")
    app = App(__name__, template_folder=str(folder))
    assert render_text(app.render("page.html", word="hi")) == "<b>hi</b>"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("hello.html", "<p>Hello &lt;b&gt;&amp;!</p>", id="html-escaped"),
        pytest.param("feed.xml", "<title>&lt;b&gt;&amp;</title>", id="xml-escaped"),
        pytest.param("hello.txt", "Hello <b>&!", id="txt-raw"),
    ],
)
def test_autoescape(site, template, expected):
    assert render_text(site.render(template, name="<b>&")) == expected


def test_template_name_is_positional_only(site):
    response = site.render("both.html", template="x", name="y")
    assert render_text(response) == "x|y"


def test_missing_template_raises(site):
    with pytest.raises(jinja2.TemplateNotFound):
        site.render("nope.html")


def test_render_in_a_handler(site):
    res = webtest.TestApp(site).get("/hello?name=%3Ci%3E")
    assert res.content_type == "text/html"
    assert res.text == "<p>Hello &lt;i&gt;!</p>"


def test_request_and_url_for_inside_templates(site):
    res = webtest.TestApp(site).get("/items/1")
    assert res.text == "/items/1||/items/7"


def test_url_for_inside_templates_under_script_name(site):
    res = webtest.TestApp(site).get("/items/1", extra_environ={"SCRIPT_NAME": "/blog"})
    assert res.text == "/items/1|/blog|/blog/items/7"


def test_url_for_inside_templates_of_a_mounted_app(site):
    outer = App(__name__)
    outer.mount("/blog", site)
    res = webtest.TestApp(outer).get("/blog/items/1")
    assert res.text == "/items/1|/blog|/blog/items/7"


def test_builtin_error_page_without_templates_of_its_own(tmp_path):
    app = App(__name__, template_folder=str(tmp_path / "does-not-exist"))
    res = webtest.TestApp(app).get("/nowhere", status=404)
    assert res.content_type == "text/html"
    assert "404" in res.text
    assert "Not Found" in res.text


def test_an_app_template_overrides_the_builtin_one(tmp_path):
    (tmp_path / "error.html").write_text("custom error page {{ status }}")
    app = App(__name__, template_folder=str(tmp_path))
    res = webtest.TestApp(app).get("/nowhere", status=404)
    assert res.text == "custom error page 404"


def test_the_template_folder_defaults_to_templates_beside_the_module(site, tmp_path):
    (tmp_path / "templates" / "error.html").write_text("site error {{ status }}")
    res = webtest.TestApp(site).get("/nowhere", status=404)
    assert res.text == "site error 404"
