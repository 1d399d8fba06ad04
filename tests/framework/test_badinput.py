"""Bad input never gives a 500: it gets a clear 4xx."""

from __future__ import annotations

import io
import logging

import pytest

from framework import App


@pytest.fixture
def app():
    app = App(__name__, max_content_length=1024)

    @app.get("/")
    def index(request):
        return "home"

    @app.get("/items/<name>")
    def item(request, name):
        return {"name": name}

    @app.get("/search")
    def search(request):
        return {"q": request.args.get("q")}

    @app.post("/json")
    def post_json(request):
        return {"got": request.json}

    @app.post("/form")
    def post_form(request):
        return {"got": request.form.to_dict()}

    @app.post("/data")
    def post_data(request):
        return {"size": len(request.get_data())}

    return app


def wsgi_environ(path, method="GET", query="", body=b"", content_length=None, **extra):
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "test.body": body,  # a fresh wsgi.input is made for each call
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    elif body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    return environ


def status_of(app, environ, caplog):
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)
        return lambda data: None

    environ = dict(environ, **{"wsgi.input": io.BytesIO(environ["test.body"])})
    with caplog.at_level(logging.ERROR, logger="framework"):
        iterable = app(environ, start_response)
        try:
            b"".join(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
    return int(statuses[-1].split()[0])


JSON = {"CONTENT_TYPE": "application/json"}
FORM = {"CONTENT_TYPE": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        # the path: PATH_INFO is the WSGI (latin-1) string of the raw bytes
        pytest.param(wsgi_environ("/%zz"), 400, id="path-malformed-percent"),
        pytest.param(wsgi_environ("/items/%"), 400, id="path-lone-percent"),
        pytest.param(wsgi_environ("/items/%zz", REQUEST_URI="/items/%zz"), 400, id="path-malformed-raw-uri"),
        pytest.param(
            wsgi_environ("/items/%zz", REQUEST_URI="/items/%25zz?a=1"),
            200,
            id="path-encoded-percent-is-fine",
        ),
        pytest.param(wsgi_environ("/\xff"), 400, id="path-invalid-utf8"),
        pytest.param(wsgi_environ("/items/\xff\xfe"), 400, id="path-invalid-utf8-in-param"),
        pytest.param(wsgi_environ("/items/\xc3"), 400, id="path-truncated-utf8"),
        pytest.param(wsgi_environ("/items/\xc3\xa9"), 200, id="path-valid-utf8"),
        # the query string
        pytest.param(wsgi_environ("/search", query="q=%zz"), 400, id="query-malformed-percent"),
        pytest.param(wsgi_environ("/search", query="q=%"), 400, id="query-lone-percent"),
        pytest.param(wsgi_environ("/search", query="q=%ff"), 400, id="query-invalid-utf8-encoded"),
        pytest.param(wsgi_environ("/search", query="q=\xff"), 400, id="query-invalid-utf8-raw"),
        pytest.param(wsgi_environ("/search", query="q=%C3%A9"), 200, id="query-valid-utf8"),
        pytest.param(wsgi_environ("/search", query="q=a+b&&=&x"), 200, id="query-odd-but-valid"),
        # bodies
        pytest.param(wsgi_environ("/json", "POST", body=b"{", **JSON), 400, id="json-malformed"),
        pytest.param(wsgi_environ("/json", "POST", body=b'"\xff"', **JSON), 400, id="json-invalid-utf8"),
        pytest.param(wsgi_environ("/data", "POST", body=b"x" * 2048), 413, id="data-over-max-length"),
        pytest.param(
            wsgi_environ("/form", "POST", body=b"a=" + b"x" * 2048, **FORM),
            413,
            id="form-over-max-length",
        ),
        pytest.param(
            wsgi_environ("/data", "POST", body=b"", content_length="999999"),
            413,
            id="declared-over-max-length",
        ),
        # methods
        pytest.param(wsgi_environ("/", "FOO"), 405, id="method-foo-on-a-rule"),
        pytest.param(wsgi_environ("/", "PROPFIND"), 405, id="method-propfind-on-a-rule"),
        pytest.param(wsgi_environ("/nowhere", "PROPFIND"), 404, id="method-propfind-no-rule"),
        # Content-Length
        pytest.param(
            wsgi_environ("/data", "POST", body=b"abc", content_length="-1"),
            400,
            id="content-length-negative",
        ),
        pytest.param(
            wsgi_environ("/data", "POST", body=b"abc", content_length="abc"),
            400,
            id="content-length-garbage",
        ),
        pytest.param(
            wsgi_environ("/data", "POST", body=b"abc", content_length="1e3"),
            400,
            id="content-length-float",
        ),
    ],
)
def test_bad_input_is_a_4xx(app, caplog, environ, expected):
    assert status_of(app, environ, caplog) == expected


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param(wsgi_environ("/nowhere", HTTP_ACCEPT="application/json;q=abc,,;;"), id="accept-garbage"),
        pytest.param(wsgi_environ("/nowhere", HTTP_ACCEPT="\xff\xfe"), id="accept-latin1"),
        pytest.param(
            wsgi_environ("/form", "POST", body=b"a=1", CONTENT_TYPE="multipart/form-data"),
            id="multipart-without-boundary",
        ),
        pytest.param(
            wsgi_environ(
                "/form", "POST", body=b"--x\r\ngarbage", CONTENT_TYPE="multipart/form-data; boundary=x"
            ),
            id="multipart-truncated",
        ),
        pytest.param(wsgi_environ("/form", "POST", body=b"a=%zz&b=%ff", **FORM), id="form-bad-percent"),
        pytest.param(
            wsgi_environ("/json", "POST", body=b"{}", CONTENT_TYPE="text/plain"),
            id="json-wrong-content-type",
        ),
        pytest.param(wsgi_environ("/data", "POST", body=b"abc", content_length="10"), id="short-body"),
    ],
)
def test_odd_input_is_never_a_500(app, caplog, environ):
    assert status_of(app, environ, caplog) < 500


def test_bad_input_logs_no_errors(app, caplog):
    status_of(app, wsgi_environ("/\xff"), caplog)
    status_of(app, wsgi_environ("/search", query="q=%zz"), caplog)
    status_of(app, wsgi_environ("/json", "POST", body=b"{", **JSON), caplog)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_bad_query_string_is_fine_until_args_are_read(app, caplog):
    for query in ["q=%zz", "q=%ff", "q=\xff"]:
        assert status_of(app, wsgi_environ("/", query=query), caplog) == 200
