"""framework/mounting.py: the mount table's pure decisions, table-driven, no WSGI call.

Only the last two tests call an app (``MountTable.dispatch``), with a fake
``start_response``.
"""

from __future__ import annotations

import pytest

from framework.mounting import MountTable, PrefixMap, normalize_prefix, path_matches, request_host


class Named:
    """A stand-in WSGI app that is told apart by name and records its environ."""

    def __init__(self, name):
        self.name = name
        self.environ = None

    def __call__(self, environ, start_response):
        self.environ = dict(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [self.name.encode()]

    def __repr__(self):
        return f"Named({self.name!r})"


API, API_V2, BLOG, ROOT_APP, ADMIN, SHOP, DEEP = (
    Named(name) for name in ("api", "api_v2", "blog", "root", "admin", "shop", "deep")
)


# -- normalize_prefix -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        pytest.param("/api", "/api", id="plain"),
        pytest.param("/api/", "/api", id="trailing-slash"),
        pytest.param("/api//", "/api", id="trailing-slashes"),
        pytest.param("/a/b", "/a/b", id="two-segments"),
        pytest.param("/", "", id="root"),
        pytest.param("//", "", id="root-twice"),
        pytest.param("/café", "/caf\xc3\xa9", id="non-ascii-as-pep3333-latin1"),
        pytest.param("/日本", "/" + "日本".encode().decode("latin-1"), id="cjk-as-pep3333-latin1"),
    ],
)
def test_normalize_prefix(prefix, expected):
    assert normalize_prefix(prefix) == expected


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("api", id="no-leading-slash"),
        pytest.param("", id="empty"),
        pytest.param(" /api", id="leading-space"),
        pytest.param(b"/api", id="bytes"),
        pytest.param(None, id="none"),
    ],
)
def test_normalize_prefix_refuses(prefix):
    with pytest.raises(ValueError, match="must start with '/'"):
        normalize_prefix(prefix)


# -- path_matches ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        pytest.param("/api", "/api", True, id="exact"),
        pytest.param("/api", "/api/", True, id="slash-after"),
        pytest.param("/api", "/api/x/y", True, id="below"),
        pytest.param("/api", "/apix", False, id="not-a-segment-boundary"),
        pytest.param("/api", "/ap", False, id="shorter"),
        pytest.param("/api", "/", False, id="root-path"),
        pytest.param("/api", "", False, id="empty-path"),
        pytest.param("/api/", "/api/x", True, id="prefix-with-trailing-slash"),
        pytest.param("/api/", "/api", True, id="prefix-with-trailing-slash-exact"),
        pytest.param("/a/b", "/a/bc", False, id="deep-not-a-boundary"),
        pytest.param("", "/anything", True, id="empty-prefix-covers-all"),
        pytest.param("/", "/anything", True, id="root-prefix-covers-all"),
        pytest.param("/", "", True, id="root-prefix-empty-path"),
        pytest.param("/API", "/api", False, id="case-sensitive"),
    ],
)
def test_path_matches(prefix, path, expected):
    assert path_matches(prefix, path) is expected


# -- PrefixMap --------------------------------------------------------------------------


PREFIXES = PrefixMap({"/admin": "staff", "/admin/billing/": "finance", "/café": "menu"})
WITH_ROOT = PrefixMap({"/": "everyone", "/admin": "staff"})


@pytest.mark.parametrize(
    ("prefixes", "path", "expected"),
    [
        pytest.param(PREFIXES, "/admin", ("/admin", "staff"), id="exact"),
        pytest.param(PREFIXES, "/admin/", ("/admin", "staff"), id="trailing-slash"),
        pytest.param(PREFIXES, "/admin/users/7", ("/admin", "staff"), id="below"),
        pytest.param(PREFIXES, "/admin/billing", ("/admin/billing", "finance"), id="longest-exact"),
        pytest.param(PREFIXES, "/admin/billing/2024/03", ("/admin/billing", "finance"), id="longest-below"),
        pytest.param(PREFIXES, "/admin/billingx", ("/admin", "staff"), id="longer-not-at-boundary"),
        pytest.param(PREFIXES, "/administrator", None, id="not-at-boundary"),
        pytest.param(PREFIXES, "/", None, id="root-path-no-root-prefix"),
        pytest.param(PREFIXES, "", None, id="empty-path"),
        pytest.param(PREFIXES, "/other/admin", None, id="prefix-later-in-path"),
        pytest.param(PREFIXES, "/caf\xc3\xa9/menu", ("/caf\xc3\xa9", "menu"), id="non-ascii-pep3333"),
        pytest.param(PREFIXES, "/café/menu", None, id="non-ascii-decoded-is-not-pep3333"),
        pytest.param(WITH_ROOT, "/", ("", "everyone"), id="root-covers-root"),
        pytest.param(WITH_ROOT, "", ("", "everyone"), id="root-covers-empty"),
        pytest.param(WITH_ROOT, "/elsewhere/x", ("", "everyone"), id="root-covers-rest"),
        pytest.param(WITH_ROOT, "/admin/x", ("/admin", "staff"), id="longer-than-root-wins"),
    ],
)
def test_prefix_map_find(prefixes, path, expected):
    assert prefixes.find(path) == expected


def test_prefix_map_stores_normalized_prefixes():
    assert PREFIXES.items == {"/admin": "staff", "/admin/billing": "finance", "/caf\xc3\xa9": "menu"}
    assert len(PREFIXES) == 3 and bool(PREFIXES)
    empty = PrefixMap()
    assert len(empty) == 0 and not empty
    assert empty.find("/x") is None


def test_prefix_map_later_item_replaces_the_same_prefix():
    prefixes = PrefixMap({"/api": 1})
    prefixes["/api/"] = 2
    assert prefixes.items == {"/api": 2}


def test_prefix_map_refuses_a_bad_prefix():
    with pytest.raises(ValueError, match="must start with '/'"):
        PrefixMap({"api": 1})


# -- request_host ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"HTTP_HOST": "example.com"}, "example.com", id="name"),
        pytest.param({"HTTP_HOST": "example.com:8080"}, "example.com", id="port"),
        pytest.param({"HTTP_HOST": "Admin.Example.COM"}, "admin.example.com", id="case"),
        pytest.param({"HTTP_HOST": "example.com."}, "example.com", id="trailing-dot"),
        pytest.param({"HTTP_HOST": "example.com.:443"}, "example.com", id="trailing-dot-and-port"),
        pytest.param({"HTTP_HOST": " example.com "}, "example.com", id="spaces"),
        pytest.param({"HTTP_HOST": "[::1]:8000"}, "[::1]", id="ipv6-port"),
        pytest.param({"HTTP_HOST": "[::1]"}, "[::1]", id="ipv6"),
        pytest.param({"HTTP_HOST": "[2001:DB8::1]:80"}, "[2001:db8::1]", id="ipv6-case"),
        pytest.param({"HTTP_HOST": "127.0.0.1:5000"}, "127.0.0.1", id="ipv4-port"),
        pytest.param({"SERVER_NAME": "Server.Example", "SERVER_PORT": "80"}, "server.example",
                     id="server-name-without-host-header"),
        pytest.param({"HTTP_HOST": "", "SERVER_NAME": "fallback"}, "fallback", id="empty-host-header"),
        pytest.param({"HTTP_HOST": "h.example", "SERVER_NAME": "s.example"}, "h.example",
                     id="host-header-first"),
        pytest.param({}, "", id="nothing"),
    ],
)
def test_request_host(environ, expected):
    assert request_host(environ) == expected


# -- MountTable.find ---------------------------------------------------------------------


TABLE = MountTable(
    {"/api": API, "/api/v2": API_V2, "/blog/": BLOG},
    hosts={
        "admin.example.com": ADMIN,
        "*.example.com": SHOP,
        "*.deep.example.com": DEEP,
        "Upper.Example.ORG.": ADMIN,
        "ported.example.net:8080": ADMIN,
    },
)


def request(path, host="www.other.org"):
    return {"PATH_INFO": path, "HTTP_HOST": host}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param(request("/api"), (API, "/api"), id="prefix-exact"),
        pytest.param(request("/api/users"), (API, "/api"), id="prefix-below"),
        pytest.param(request("/api/v2/users"), (API_V2, "/api/v2"), id="longest-prefix"),
        pytest.param(request("/api/v2x"), (API, "/api"), id="longer-prefix-not-at-boundary"),
        pytest.param(request("/apix"), None, id="not-at-boundary"),
        pytest.param(request("/blog/post"), (BLOG, "/blog"), id="prefix-given-with-slash"),
        pytest.param(request("/"), None, id="root-unmounted"),
        pytest.param({"HTTP_HOST": "x.org"}, None, id="no-path-info"),
        pytest.param(request("/api/x", "admin.example.com"), (ADMIN, ""), id="host-before-prefix"),
        pytest.param(request("/", "ADMIN.example.com:8443"), (ADMIN, ""), id="host-case-and-port"),
        pytest.param(request("/", "admin.example.com."), (ADMIN, ""), id="host-trailing-dot"),
        pytest.param(request("/", "shop.example.com"), (SHOP, ""), id="wildcard-one-level"),
        pytest.param(request("/", "a.b.c.example.com"), (SHOP, ""), id="wildcard-any-depth"),
        pytest.param(request("/", "x.deep.example.com"), (DEEP, ""), id="most-specific-wildcard"),
        pytest.param(request("/", "deep.example.com"), (SHOP, ""), id="wildcard-base-is-a-subdomain"),
        pytest.param(request("/api", "example.com"), (API, "/api"), id="wildcard-not-the-bare-domain"),
        pytest.param(request("/api", "badexample.com"), (API, "/api"), id="wildcard-label-boundary"),
        pytest.param(request("/", "upper.example.org"), (ADMIN, ""), id="host-key-normalized"),
        pytest.param(request("/", "ported.example.net"), (ADMIN, ""), id="host-key-port-dropped"),
        pytest.param(request("/", "[::1]:8000"), None, id="ipv6-unmounted"),
    ],
)
def test_mount_table_find(environ, expected):
    assert TABLE.find(environ) == expected


def test_mount_table_ipv6_host():
    table = MountTable(hosts={"[::1]": ADMIN})
    assert table.find(request("/", "[::1]:8000")) == (ADMIN, "")
    assert table.find(request("/", "127.0.0.1")) is None


def test_mount_table_root_prefix_serves_the_rest():
    table = MountTable({"/": ROOT_APP, "/api": API})
    assert table.find(request("/api/x")) == (API, "/api")
    assert table.find(request("/other")) == (ROOT_APP, "")
    assert table.find(request("")) == (ROOT_APP, "")


def test_empty_mount_table():
    table = MountTable()
    assert not table and table.active is False
    assert table.find(request("/api", "admin.example.com")) is None
    table.add("/api", API)
    assert table and table.active is True


@pytest.mark.parametrize(
    ("add", "error", "message"),
    [
        pytest.param(lambda t: t.add("api", API), ValueError, "must start with '/'", id="prefix-no-slash"),
        pytest.param(lambda t: t.add("/api", "not an app"), TypeError, "WSGI callable",
                     id="prefix-app-not-callable"),
        pytest.param(lambda t: t.add_host("a.example.com", None), TypeError, "WSGI callable",
                     id="host-app-not-callable"),
        pytest.param(lambda t: t.add_host("", API), ValueError, "exact name", id="host-empty"),
        pytest.param(lambda t: t.add_host("*", API), ValueError, "exact name", id="host-star"),
        pytest.param(lambda t: t.add_host("a*.example.com", API), ValueError, "exact name",
                     id="host-star-inside"),
        pytest.param(lambda t: t.add_host("a.*.example.com", API), ValueError, "exact name",
                     id="host-star-in-the-middle"),
    ],
)
def test_mount_table_refuses_bad_configuration(add, error, message):
    table = MountTable()
    with pytest.raises(error, match=message):
        add(table)
    assert not table


# -- entries, wrap_apps -----------------------------------------------------------------


def test_entries_lists_prefixes_then_hosts_then_wildcards():
    hosts = {"*.Example.com": SHOP, "admin.example.com": ADMIN}
    table = MountTable({"/": ROOT_APP, "/api/": API}, hosts=hosts)
    assert list(table.entries()) == [
        ("/", ROOT_APP),
        ("/api", API),
        ("admin.example.com", ADMIN),
        ("*.example.com", SHOP),
    ]


def test_wrap_apps_replaces_every_mounted_app():
    table = MountTable({"/api": API}, hosts={"admin.example.com": ADMIN, "*.example.com": SHOP})
    table.wrap_apps(lambda app: ("wrapped", app))
    assert list(table.entries()) == [
        ("/api", ("wrapped", API)),
        ("admin.example.com", ("wrapped", ADMIN)),
        ("*.example.com", ("wrapped", SHOP)),
    ]
    assert table.find(request("/api/x")) == (("wrapped", API), "/api")


# -- dispatch: the one step that calls an app ---------------------------------------


def test_dispatch_shifts_the_prefix_and_calls_the_app():
    app = Named("api")
    table = MountTable({"/api": app})
    started = []
    environ = {"SCRIPT_NAME": "/site", "PATH_INFO": "/api/users/7", "HTTP_HOST": "x.org"}
    body = table.dispatch(environ, lambda status, headers, exc_info=None: started.append(status))
    assert list(body) == [b"api"]
    assert started == ["200 OK"]
    assert app.environ["SCRIPT_NAME"] == "/site/api"
    assert app.environ["PATH_INFO"] == "/users/7"


def test_dispatch_without_a_match_returns_none_and_leaves_the_environ():
    table = MountTable({"/api": Named("api")})
    environ = {"SCRIPT_NAME": "", "PATH_INFO": "/apix", "HTTP_HOST": "x.org"}
    assert table.dispatch(environ, lambda *args: pytest.fail("start_response was called")) is None
    assert environ == {"SCRIPT_NAME": "", "PATH_INFO": "/apix", "HTTP_HOST": "x.org"}
