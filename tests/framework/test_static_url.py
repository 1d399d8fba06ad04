"""The ``static_url`` template global and ``framework.context.static_url``.

First with a fake layer (a function at ``environ["framework.static_url"]``, the
contract with ``StaticFiles``), then end to end through ``StaticFiles`` and a manifest
built by ``build_assets``.
"""

from __future__ import annotations

import gzip
from functools import partial

import pytest

from framework import App, Request
from framework.assets import build_assets, fingerprint
from framework.context import STATIC_URL_KEY, static_url
from framework.templating import request_globals
from framework.testing import TestClient, validated
from middleware.mount import Mount
from middleware.stack import Stack
from middleware.static import StaticFiles

PAGE = '<script src="{{ static_url(\'app.js\') }}"></script>'


def fake_url(path):
    """What a StaticFiles layer mounted at /static with a manifest would answer."""
    return "/static/" + {"app.js": "app.3f2a9c1b.js"}.get(path.lstrip("/"), path.lstrip("/"))


def environ_with(**extra):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "x", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http"}
    environ.update(extra)
    return environ


def make_app(folder) -> App:
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    app = App(__name__, template_folder=str(folder))

    @app.get("/")
    def index(request):
        return app.render("page.html")

    @app.get("/url/<path:name>")
    def url(request, name):
        return static_url(request, name)

    return app


def with_layer(app, url_of=fake_url):
    """A stand-in for StaticFiles: it sets the environ key, then calls the app."""

    def layer(environ, start_response):
        environ[STATIC_URL_KEY] = url_of
        return app(environ, start_response)

    layer.app = app
    return validated(layer)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("app.js", "/static/app.3f2a9c1b.js", id="in-the-manifest"),
        pytest.param("/app.js", "/static/app.3f2a9c1b.js", id="leading-slash"),
        pytest.param("img/logo.png", "/static/img/logo.png", id="not-in-the-manifest"),
    ],
)
def test_static_url_calls_the_layers_function(path, expected):
    assert static_url(Request(environ_with(**{STATIC_URL_KEY: fake_url})), path) == expected


def test_static_url_passes_the_path_as_given():
    seen = []
    request = Request(environ_with(**{STATIC_URL_KEY: lambda path: seen.append(path) or "/u"}))
    assert static_url(request, "/css/site.css") == "/u"
    assert seen == ["/css/site.css"]


def test_static_url_without_a_layer_says_what_is_missing():
    with pytest.raises(RuntimeError) as caught:
        static_url(Request(environ_with()), "app.js")
    message = str(caught.value)
    assert message.startswith("static_url() needs a StaticFiles layer outside the app; ")
    assert "'app.js'" in message
    assert message.endswith(".")


def test_the_template_global(tmp_path):
    response = TestClient(with_layer(make_app(tmp_path))).get("/")
    assert response.status_code == 200
    assert response.text == '<script src="/static/app.3f2a9c1b.js"></script>'


def test_the_template_global_escapes_the_url(tmp_path):
    response = TestClient(with_layer(make_app(tmp_path), lambda path: '/s/"<x>')).get("/")
    assert response.text == '<script src="/s/&#34;&lt;x&gt;"></script>'


def test_a_handler_calls_it_too(tmp_path):
    assert TestClient(with_layer(make_app(tmp_path))).get("/url/app.js").text == "/static/app.3f2a9c1b.js"


def test_without_a_layer_the_page_fails(tmp_path):
    client = TestClient(validated(make_app(tmp_path)))
    assert client.get("/").status_code == 500
    assert client.get("/url/app.js").status_code == 500


def test_rendered_outside_a_request(tmp_path):
    app = make_app(tmp_path)
    with pytest.raises(RuntimeError, match=r"^static_url\(\) needs a StaticFiles layer .* outside a request"):
        app.render("page.html").get_data()
    with pytest.raises(RuntimeError, match="'x.css'"):
        request_globals(None)["static_url"]("x.css")


def test_context_keys_and_the_apps_own_globals_win(tmp_path):
    app = make_app(tmp_path)
    assert app.render("page.html", static_url=lambda path: "given").get_data(as_text=True) == (
        '<script src="given"></script>')
    app.jinja_env.globals["static_url"] = lambda path: f"/cdn/{path}"
    response = TestClient(with_layer(app)).get("/")
    assert response.text == '<script src="/cdn/app.js"></script>'


# --- end to end: build_assets, StaticFiles, an App anywhere inside the onion ----------------

SCRIPT = b"document.title = 'hello from app.js';\n" * 40
STYLE = b"body { margin: 0 auto; color: #333; }\n" * 40
TWO = "{{ static_url('app.js') }} {{ static_url('css/site.css') }}"


@pytest.fixture
def site(tmp_path):
    """An App rendering static_url, and a static folder built by build_assets."""
    public = tmp_path / "public"
    (public / "css").mkdir(parents=True)
    (public / "app.js").write_bytes(SCRIPT)
    (public / "css" / "site.css").write_bytes(STYLE)
    manifest = build_assets(str(public)).manifest
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "two.html").write_text(TWO, encoding="utf-8")
    (templates / "later.html").write_text("{{ static_url('later.js') }}", encoding="utf-8")
    app = App(__name__, template_folder=str(templates))

    @app.get("/")
    def index(request):
        return app.render("two.html")

    @app.get("/later")
    def later(request):
        return app.render("later.html")

    return app, str(public), manifest


def urls(prefix, manifest):
    return f"{prefix}/{manifest['app.js']} {prefix}/{manifest['css/site.css']}"


@pytest.mark.parametrize(
    ("build", "script_name", "page", "prefix"),
    [
        pytest.param(lambda app, public: StaticFiles(app, mounts={"/static": public}),
                     "", "/", "/static", id="around-the-app"),
        pytest.param(lambda app, public: StaticFiles(app, mounts={"/static": public}),
                     "/prefix", "/", "/prefix/static", id="under-a-script-name"),
        pytest.param(lambda app, public: StaticFiles(app, mounts={"/assets/v1": public}),
                     "/prefix", "/", "/prefix/assets/v1", id="deeper-mount"),
        pytest.param(lambda app, public: Stack(Mount(mounts={"/shop": app}),
                                               partial(StaticFiles, mounts={"/static": public})),
                     "/prefix", "/shop/", "/prefix/static", id="outside-a-mount-in-a-stack"),
        pytest.param(lambda app, public: Mount(mounts={"/shop": StaticFiles(app,
                                                                             mounts={"/static": public})}),
                     "/prefix", "/shop/", "/prefix/shop/static", id="inside-a-mount"),
        pytest.param(lambda app, public: Stack(app, partial(StaticFiles, mounts={"/static": public}),
                                               partial(Mount, mounts={"/api": App("api")})),
                     "/prefix", "/", "/prefix/static", id="stack-with-layers-inside"),
    ],
)
def test_the_url_is_the_fingerprinted_file_under_the_mount_and_script_name(site, build, script_name, page,
                                                                          prefix):
    app, public, manifest = site
    client = TestClient(validated(build(app, public)))
    response = client.get(page, environ_overrides={"SCRIPT_NAME": script_name})
    assert response.status_code == 200, response.text
    assert response.text == urls(prefix, manifest)
    assert manifest["app.js"] == f"app.{fingerprint(SCRIPT)}.js"
    # And that URL serves the file, cached for a year, from the same onion.
    url = f"{prefix}/{manifest['app.js']}".removeprefix(script_name)
    served = client.get(url, environ_overrides={"SCRIPT_NAME": script_name})
    assert served.status_code == 200
    assert served.get_data() == SCRIPT
    assert "immutable" in served.headers["Cache-Control"]


def test_the_fingerprinted_url_serves_the_gzip_sibling(site):
    app, public, manifest = site
    client = TestClient(validated(StaticFiles(app, mounts={"/static": public})))
    url = client.get("/").text.split()[0]
    served = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert served.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(served.get_data()) == SCRIPT


def test_a_file_not_in_the_manifest_keeps_its_name(site, tmp_path):
    app, public, _ = site
    (tmp_path / "public" / "later.js").write_bytes(b"1;")
    client = TestClient(validated(StaticFiles(app, mounts={"/static": public}, autorefresh=True)))
    assert client.get("/later").text == "/static/later.js"


def test_nested_layers_each_give_their_own_files(site, tmp_path):
    """The app's own StaticFiles (inside a Mount) falls back to the site-wide one outside."""
    app, public, manifest = site
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.css").write_bytes(STYLE + b"/* theme */\n")
    theme_manifest = build_assets(str(theme)).manifest
    (tmp_path / "templates" / "both.html").write_text(
        "{{ static_url('theme.css') }} {{ static_url('app.js') }}", encoding="utf-8")

    @app.get("/both")
    def both(request):
        return app.render("both.html")

    inner = StaticFiles(app, mounts={"/assets": public})
    onion = StaticFiles(Mount(mounts={"/shop": inner}), mounts={"/theme": str(theme)})
    page = TestClient(validated(onion)).get("/shop/both", environ_overrides={"SCRIPT_NAME": "/site"})
    assert page.text == f"/site/theme/{theme_manifest['theme.css']} /site/shop/assets/{manifest['app.js']}"
