"""middleware/mount.py: ``Mount`` by path prefix and host name, and ``App.mount`` on the same rules."""

from __future__ import annotations

import json

import pytest
from webtest import TestApp

from framework import App
from framework.testing import validated
from middleware import Mount


def echo(name):
    """A WSGI app that answers its name and the ``SCRIPT_NAME``/``PATH_INFO`` it was given."""

    def app(environ, start_response):
        body = {"app": name, "script_name": environ.get("SCRIPT_NAME", ""),
                "path_info": environ.get("PATH_INFO", "")}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    app.__qualname__ = f"echo_{name}"
    return app


def wsgi(text):
    """A PEP 3333 string: *text* as UTF-8 bytes decoded as latin-1."""
    return text.encode().decode("latin-1")


MOUNTS = {"/api": echo("api"), "/api/v2": echo("v2"), "/blog/": echo("blog"), "/café": echo("cafe")}


def site_app():
    """A ``framework.App`` with the same mounts, answering everything else like ``echo('site')``."""
    site = App("site")
    for prefix, mounted in MOUNTS.items():
        site.mount(prefix, mounted)

    @site.get("/")
    @site.get("/<path:rest>")
    def fallback(request, rest=""):
        return {"app": "site", "script_name": request.environ["SCRIPT_NAME"],
                "path_info": request.environ["PATH_INFO"]}

    return site


BUILDERS = [
    pytest.param(lambda: Mount(echo("site"), mounts=MOUNTS), id="Mount"),
    pytest.param(site_app, id="App.mount"),
]


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize(
    ("url", "app", "script_name", "path_info"),
    [
        pytest.param("/api", "api", "/api", "", id="prefix-exact"),
        pytest.param("/api/", "api", "/api", "/", id="prefix-slash"),
        pytest.param("/api/x", "api", "/api", "/x", id="below-prefix"),
        pytest.param("/api/x/y/", "api", "/api", "/x/y/", id="deep-below-prefix"),
        pytest.param("/apix", "site", "", "/apix", id="not-at-a-segment-boundary"),
        pytest.param("/api/v2/users", "v2", "/api/v2", "/users", id="longest-prefix-wins"),
        pytest.param("/api/v2", "v2", "/api/v2", "", id="longest-prefix-exact"),
        pytest.param("/api/v2x", "api", "/api", "/v2x", id="longest-at-boundary-only"),
        pytest.param("/blog/post", "blog", "/blog", "/post", id="prefix-given-with-trailing-slash"),
        pytest.param("/blog", "blog", "/blog", "", id="prefix-given-with-trailing-slash-exact"),
        pytest.param("/caf%C3%A9/menu", "cafe", wsgi("/café"), "/menu", id="non-ascii-prefix"),
        pytest.param("/cafe/menu", "site", "", "/cafe/menu", id="non-ascii-prefix-not-ascii-lookalike"),
        pytest.param("/", "site", "", "/", id="root-to-app"),
        pytest.param("/other/api", "site", "", "/other/api", id="prefix-only-at-the-start"),
    ],
)
def test_prefixes(build, url, app, script_name, path_info):
    response = TestApp(validated(build())).get(url)
    assert response.json == {"app": app, "script_name": script_name, "path_info": path_info}


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize(
    ("url", "app", "script_name", "path_info"),
    [
        pytest.param("/api/x", "api", "/outer/api", "/x", id="mounted"),
        pytest.param("/api", "api", "/outer/api", "", id="mounted-exact"),
        pytest.param("/apix", "site", "/outer", "/apix", id="unmounted"),
    ],
)
def test_prefixes_under_an_outer_script_name(build, url, app, script_name, path_info):
    client = TestApp(validated(build()), extra_environ={"SCRIPT_NAME": "/outer"})
    response = client.get(url)
    assert response.json == {"app": app, "script_name": script_name, "path_info": path_info}


def host_mount():
    return Mount(
        echo("site"),
        mounts={"/api": echo("api")},
        hosts={"admin.example.com": echo("admin"), "*.example.com": echo("sub"), "[::1]": echo("ipv6")},
    )


@pytest.mark.parametrize(
    ("host", "url", "app", "script_name", "path_info"),
    [
        pytest.param("admin.example.com", "/x", "admin", "", "/x", id="exact"),
        pytest.param("admin.example.com:8080", "/x", "admin", "", "/x", id="exact-with-port"),
        pytest.param("ADMIN.Example.COM", "/x", "admin", "", "/x", id="case-insensitive"),
        pytest.param("admin.example.com.", "/x", "admin", "", "/x", id="trailing-dot"),
        pytest.param("a.example.com", "/x", "sub", "", "/x", id="wildcard-one-level"),
        pytest.param("a.b.example.com:443", "/x", "sub", "", "/x", id="wildcard-two-levels"),
        pytest.param("example.com", "/x", "site", "", "/x", id="wildcard-not-the-domain-itself"),
        pytest.param("notexample.com", "/x", "site", "", "/x", id="wildcard-not-a-longer-name"),
        pytest.param("example.com.evil.test", "/x", "site", "", "/x", id="wildcard-not-a-prefix"),
        pytest.param("[::1]:8000", "/x", "ipv6", "", "/x", id="ipv6-literal-with-port"),
        pytest.param("admin.example.com", "/api/x", "admin", "", "/api/x", id="hosts-before-prefixes"),
        pytest.param("a.example.com", "/api/x", "sub", "", "/api/x", id="wildcard-before-prefixes"),
        pytest.param("other.test", "/api/x", "api", "/api", "/x", id="prefix-for-other-hosts"),
        pytest.param("other.test", "/x", "site", "", "/x", id="app-for-the-rest"),
    ],
)
def test_hosts(host, url, app, script_name, path_info):
    response = TestApp(validated(host_mount())).get(url, headers={"Host": host})
    assert response.json == {"app": app, "script_name": script_name, "path_info": path_info}


@pytest.mark.parametrize(
    ("url", "status"),
    [
        pytest.param("/", 404, id="root"),
        pytest.param("/other", 404, id="unmounted"),
        pytest.param("/apix", 404, id="not-at-a-segment-boundary"),
        pytest.param("/api/x", 200, id="mounted"),
    ],
)
def test_without_an_app_the_rest_is_404(url, status):
    client = TestApp(validated(Mount(None, mounts={"/api": echo("api")})))
    assert client.get(url, status=status).status_int == status


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"mounts": {"api": echo("api")}}, ValueError, "start with '/'",
                     id="prefix-without-slash"),
        pytest.param({"mounts": {"": echo("api")}}, ValueError, "start with '/'", id="empty-prefix"),
        pytest.param({"mounts": {"/api": "module:app"}}, TypeError, "WSGI callable", id="non-callable-mount"),
        pytest.param({"hosts": {"a.test": None}}, TypeError, "WSGI callable", id="non-callable-host"),
        pytest.param({"hosts": {"a*.example.com": echo("a")}}, ValueError, "example.com",
                     id="wildcard-not-at-the-start"),
        pytest.param({"hosts": {"": echo("a")}}, ValueError, "example.com", id="empty-host"),
        pytest.param({}, ValueError, "mounts=", id="nothing-to-mount"),
        pytest.param({"mounts": {}, "hosts": {}}, ValueError, "mounts=", id="empty-mappings"),
        pytest.param({"app": "module:app", "mounts": {"/api": echo("api")}}, TypeError, "WSGI callable",
                     id="non-callable-app"),
    ],
)
def test_bad_configuration(kwargs, error, message):
    app = kwargs.pop("app", echo("site"))
    with pytest.raises(error, match=message):
        Mount(app, **kwargs)


@pytest.mark.parametrize(
    ("prefix", "mounted", "error"),
    [
        pytest.param("blog", echo("blog"), ValueError, id="prefix-without-slash"),
        pytest.param("/blog", "module:app", TypeError, id="non-callable"),
    ],
)
def test_app_mount_bad_configuration(prefix, mounted, error):
    with pytest.raises(error):
        App("site").mount(prefix, mounted)


def blog_site():
    blog = App("blog")

    @blog.get("/posts/<int:post_id>", name="post")
    def post(request, post_id):
        return {"url": request.url_for("post", post_id=post_id),
                "external": request.url_for("post", post_id=post_id, _external=True)}

    site = App("site")
    site.mount("/blog", blog)
    return site


@pytest.mark.parametrize(
    ("script_name", "url", "expected"),
    [
        pytest.param("", "/blog/posts/3", "/blog/posts/3", id="mounted"),
        pytest.param("/root", "/blog/posts/3", "/root/blog/posts/3", id="mounted-under-outer-script-name"),
    ],
)
def test_an_app_mounted_in_an_app_builds_urls_under_its_prefix(script_name, url, expected):
    client = TestApp(validated(blog_site()), extra_environ={"SCRIPT_NAME": script_name})
    response = client.get(url)
    assert response.json == {"url": expected, "external": f"http://localhost{expected}"}


def test_an_app_mounted_in_a_mount_builds_urls_under_its_prefix():
    blog = blog_site()
    client = TestApp(validated(Mount(None, mounts={"/site": blog})))
    assert client.get("/site/blog/posts/3").json["url"] == "/site/blog/posts/3"
    client.get("/site/blogx/posts/3", status=404)


@pytest.mark.parametrize(
    ("host", "url", "app", "script_name", "path_info"),
    [
        pytest.param("localhost", "/v1/users/7", "users", "/v1/users", "/7", id="inner-prefix"),
        pytest.param("localhost", "/v1/users", "users", "/v1/users", "", id="inner-prefix-exact"),
        pytest.param("localhost", "/v1/other", "v1", "/v1", "/other", id="inner-app"),
        pytest.param("localhost", "/v1/usersx", "v1", "/v1", "/usersx", id="inner-boundary"),
        pytest.param("localhost", "/v2/users", "site", "", "/v2/users", id="outer-app"),
        pytest.param("shop.example.com", "/v1/users/7", "users", "/v1/users", "/7",
                     id="prefix-in-host-mount"),
        pytest.param("shop.example.com", "/cart", "shop", "", "/cart", id="host-mount-app"),
    ],
)
def test_nested_mounts(host, url, app, script_name, path_info):
    v1 = Mount(echo("v1"), mounts={"/users": echo("users")})
    shop = Mount(echo("shop"), mounts={"/v1": Mount(None, mounts={"/users": echo("users")})})
    outer = Mount(echo("site"), mounts={"/v1": v1}, hosts={"shop.example.com": shop})
    response = TestApp(validated(outer)).get(url, headers={"Host": host})
    assert response.json == {"app": app, "script_name": script_name, "path_info": path_info}


def test_mount_keeps_the_app_for_the_onion_walk():
    site = echo("site")
    mount = Mount(site, mounts={"/api": echo("api")})
    assert mount.app is site


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        pytest.param("application/json", "application/json", id="json"),
        pytest.param("text/html,*/*", "text/html", id="html"),
    ],
)
def test_nothing_mounted_is_the_frameworks_404_page(accept, content_type):
    from webtest import TestApp

    from framework.testing import validated
    from middleware import Mount

    def api(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"api"]

    reply = TestApp(validated(Mount(None, mounts={"/api": api}))).get(
        "/elsewhere", headers={"Accept": accept}, status=404)
    assert reply.content_type == content_type
    if content_type == "application/json":
        assert reply.json["error"]["status"] == 404
    else:
        assert "404" in reply.text and "<html" in reply.text
