"""middleware/cors.py: preflights answered by the layer, CORS headers on actual requests, every
request through ``framework.testing.validated`` (``wsgiref.validate`` around the layer and the app)."""

from __future__ import annotations

import logging
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.testing import TestClient, validated
from middleware.cors import CORS

SITE = "https://app.example.com"
OTHER = "https://evil.example.net"
CORS_NAMES = ("access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
              "access-control-allow-credentials", "access-control-max-age", "access-control-expose-headers")


def echo(environ, start_response):
    """Answers the method: the app was reached."""
    body = f"app saw {environ['REQUEST_METHOD']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body))),
                              ("ETag", '"e1"')])
    return [body]


def unreachable(environ, start_response):
    raise AssertionError("a preflight reached the app")


def request(layer, method: str = "GET", **headers: str):
    headers = {name.replace("_", "-"): value for name, value in headers.items()}
    return TestClient(validated(layer)).open("/api/items", method=method, headers=headers)


def preflight(layer, origin: str = SITE, method: str = "PUT", requested: str | None = None):
    headers = {"Origin": origin, "Access_Control_Request_Method": method}
    if requested is not None:
        headers["Access_Control_Request_Headers"] = requested
    return request(layer, "OPTIONS", **headers)


def cors_headers(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers if name.lower() in CORS_NAMES}


# -- preflight -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "method", "requested", "expected"),
    [
        pytest.param({"methods": ["PUT"]}, "PUT", None,
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "PUT",
                      "access-control-max-age": "600"}, id="listed-method"),
        pytest.param({"methods": ["PUT", "delete"]}, "DELETE", None,
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "DELETE, PUT",
                      "access-control-max-age": "600"}, id="methods-upper-cased"),
        pytest.param({}, "POST", None,
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "GET, HEAD, POST",
                      "access-control-max-age": "600"}, id="safelisted-method"),
        pytest.param({"methods": ["PUT"]}, "POST", None,
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "POST, PUT",
                      "access-control-max-age": "600"}, id="safelisted-method-always"),
        pytest.param({"methods": "*"}, "PURGE", None,
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "PURGE",
                      "access-control-max-age": "600"}, id="any-method-echoed"),
        pytest.param({"methods": ["PUT"], "headers": ["X-Token"]}, "PUT", "x-token,content-type",
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "PUT",
                      "access-control-allow-headers": "x-token, content-type",
                      "access-control-max-age": "600"}, id="listed-and-safelisted-headers"),
        pytest.param({"methods": ["PUT"], "headers": "*"}, "PUT", "x-a, x-b",
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "PUT",
                      "access-control-allow-headers": "x-a, x-b", "access-control-max-age": "600"},
                     id="any-header-echoed"),
        pytest.param({"methods": ["PUT"], "credentials": True, "max_age": 60}, "PUT", "",
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "PUT",
                      "access-control-allow-credentials": "true", "access-control-max-age": "60"},
                     id="credentials-and-max-age"),
        pytest.param({"methods": ["PUT"], "max_age": None}, "PUT", None,
                     {"access-control-allow-origin": SITE, "access-control-allow-methods": "PUT"},
                     id="no-max-age"),
        pytest.param({"origins": "*", "methods": ["PUT"]}, "PUT", None,
                     {"access-control-allow-origin": "*", "access-control-allow-methods": "PUT",
                      "access-control-max-age": "600"}, id="any-origin"),
        pytest.param({"origins": lambda origin: origin.endswith(".example.com"), "methods": ["PUT"]}, "PUT",
                     None, {"access-control-allow-origin": SITE, "access-control-allow-methods": "PUT",
                            "access-control-max-age": "600"}, id="callable-origin"),
    ],
)
def test_allowed_preflight_is_answered_without_the_app(options, method, requested, expected):
    options = {"origins": [SITE], **options}
    response = preflight(CORS(unreachable, **options), method=method, requested=requested)
    assert response.status_code == 204
    assert response.data == b""
    assert cors_headers(response) == expected
    vary = "Access-Control-Request-Method, Access-Control-Request-Headers"
    assert response.headers["Vary"] == (vary if options["origins"] == "*" else "Origin, " + vary)


@pytest.mark.parametrize(
    ("options", "origin", "method", "requested"),
    [
        pytest.param({}, OTHER, "PUT", None, id="origin-not-listed"),
        pytest.param({}, SITE + ".evil.net", "PUT", None, id="origin-prefix-is-not-the-origin"),
        pytest.param({}, "null", "PUT", None, id="null-origin"),
        pytest.param({}, SITE, "DELETE", None, id="method-not-listed"),
        pytest.param({}, SITE, "PUT", "x-other", id="header-not-listed"),
        pytest.param({}, SITE, "PUT", "x-token, x-other", id="one-header-not-listed"),
        pytest.param({}, SITE, "PU T", None, id="malformed-method"),
        pytest.param({}, SITE, "PUT", "x token", id="malformed-header"),
        pytest.param({"origins": lambda origin: False}, SITE, "PUT", None, id="callable-refuses"),
    ],
)
def test_refused_preflight_gets_403_without_cors_headers(options, origin, method, requested, caplog):
    options = {"origins": [SITE], "methods": ["PUT"], "headers": ["X-Token"], **options}
    with caplog.at_level(logging.INFO, logger="middleware.cors"):
        response = preflight(CORS(unreachable, **options), origin=origin, method=method, requested=requested)
    assert response.status_code == 403
    assert cors_headers(response) == {}
    assert "CORS preflight refused" in caplog.text


def test_refused_preflight_answers_json_when_asked():
    layer = CORS(unreachable, origins=[SITE])
    response = request(layer, "OPTIONS", Origin=OTHER, Access_Control_Request_Method="PUT",
                       Accept="application/json")
    assert response.status_code == 403
    assert response.json["error"]["status"] == 403
    assert "not allowed" in response.json["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [pytest.param({"Access_Control_Request_Method": "PUT"}, id="options-without-origin"),
     pytest.param({"Origin": SITE}, id="options-without-request-method")],
)
def test_options_that_is_not_a_preflight_reaches_the_app(headers):
    response = request(CORS(echo, origins=[SITE]), "OPTIONS", **headers)
    assert response.get_data(as_text=True) == "app saw OPTIONS"


# -- actual requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "origin", "expected", "vary"),
    [
        pytest.param({}, SITE, {"access-control-allow-origin": SITE}, "Origin", id="listed"),
        pytest.param({}, SITE.upper(), {"access-control-allow-origin": SITE.upper()}, "Origin",
                     id="listed-any-case"),
        pytest.param({}, OTHER, {}, "Origin", id="not-listed"),
        pytest.param({}, None, {}, "Origin", id="no-origin"),
        pytest.param({"origins": "*"}, OTHER, {"access-control-allow-origin": "*"}, None, id="any-origin"),
        pytest.param({"origins": "*"}, None, {}, None, id="any-origin-no-origin-header"),
        pytest.param({"credentials": True}, SITE,
                     {"access-control-allow-origin": SITE, "access-control-allow-credentials": "true"},
                     "Origin", id="credentials"),
        pytest.param({"credentials": True}, OTHER, {}, "Origin", id="credentials-not-listed"),
        pytest.param({"origins": lambda o: o == OTHER, "credentials": True}, OTHER,
                     {"access-control-allow-origin": OTHER, "access-control-allow-credentials": "true"},
                     "Origin", id="callable-with-credentials"),
        pytest.param({"expose_headers": ["ETag", "X-Total"]}, SITE,
                     {"access-control-allow-origin": SITE, "access-control-expose-headers": "ETag, X-Total"},
                     "Origin", id="expose-headers"),
        pytest.param({"origins": "*", "expose_headers": "*"}, SITE,
                     {"access-control-allow-origin": "*", "access-control-expose-headers": "*"}, None,
                     id="expose-everything"),
    ],
)
def test_actual_request(options, origin, expected, vary):
    options = {"origins": [SITE], **options}
    response = request(CORS(echo, **options), **({"Origin": origin} if origin else {}))
    assert response.get_data(as_text=True) == "app saw GET"
    assert cors_headers(response) == expected
    assert response.headers.get("Vary") == vary
    assert response.headers["ETag"] == '"e1"'  # the rest untouched


@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [pytest.param("Accept-Encoding", "Accept-Encoding, Origin", id="merged"),
     pytest.param("origin", "origin", id="already-there"),
     pytest.param("*", "*", id="star")],
)
@pytest.mark.parametrize("origin", [SITE, OTHER])
def test_vary_is_merged(app_vary, expected, origin):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Vary", app_vary)])
        return [b"ok"]

    response = request(CORS(app, origins=[SITE]), Origin=origin)
    assert response.headers.getlist("Vary") == [expected]


def test_the_layer_owns_the_cors_headers_of_an_allowed_origin():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")])
        return [b"ok"]

    allowed = request(CORS(app, origins=[SITE], credentials=True), Origin=SITE)
    assert allowed.headers.getlist("Access-Control-Allow-Origin") == [SITE]
    refused = request(CORS(app, origins=[SITE], credentials=True), Origin=OTHER)
    assert refused.headers.getlist("Access-Control-Allow-Origin") == ["*"]  # the app's own answer, untouched


class Streamed:
    """A streamed body that records how far it was read and ``close()``."""

    def __init__(self):
        self.made = 0
        self.closed = 0

    def __iter__(self):
        for number in range(3):
            self.made += 1
            yield b"chunk %d\n" % number

    def close(self):
        self.closed += 1


@pytest.mark.parametrize("origin", [SITE, OTHER, None])
def test_body_streams_through_and_is_closed(origin):
    body = Streamed()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    headers = {"Origin": origin} if origin else {}
    layer = CORS(app, origins=[SITE])
    returned = TestClient(validated(layer)).get("/", headers=headers, buffered=False)
    iterator = iter(returned.response)
    assert next(iterator) == b"chunk 0\n"
    assert body.made == 1  # nothing read ahead
    assert b"".join(iterator) == b"chunk 1\nchunk 2\n"
    returned.close()
    assert body.closed == 1
    bare = CORS(app, origins=[SITE])  # validated() put the validator inside `layer`
    assert bare(dict(REQUEST_METHOD="GET", **({"HTTP_ORIGIN": origin} if origin else {})),
                lambda *args: None) is body  # the app's iterable itself, not a wrapper


@pytest.mark.parametrize("origin", [SITE, OTHER])
def test_exc_info_is_forwarded(origin):
    seen = []

    def app(environ, start_response):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"failed"]

    def start_response(status, headers, exc_info=None):
        seen.append(exc_info)

    CORS(app, origins=[SITE])({"REQUEST_METHOD": "GET", "HTTP_ORIGIN": origin}, start_response)
    assert seen and isinstance(seen[0][1], RuntimeError)


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"origins": "*", "credentials": True}, ValueError, "cannot allow credentials for every",
                     id="credentials-with-star"),
        pytest.param({"origins": SITE}, TypeError, "must be a list", id="origin-string"),
        pytest.param({"origins": [SITE + "/"]}, ValueError, "trailing slash", id="trailing-slash"),
        pytest.param({"origins": [SITE + "/api"]}, ValueError, "without a path", id="path"),
        pytest.param({"origins": ["app.example.com"]}, ValueError, "scheme", id="no-scheme"),
        pytest.param({"origins": ["null"]}, ValueError, "'null' is never allowed", id="null"),
        pytest.param({"origins": [SITE], "methods": "PUT"}, TypeError, "methods", id="methods-string"),
        pytest.param({"origins": [SITE], "methods": ["PU T"]}, ValueError, "methods", id="bad-method"),
        pytest.param({"origins": [SITE], "headers": ["X Token"]}, ValueError, "headers", id="bad-header"),
        pytest.param({"origins": [SITE], "expose_headers": "*", "credentials": True}, ValueError,
                     "expose_headers", id="expose-star-with-credentials"),
        pytest.param({"origins": [SITE], "credentials": "yes"}, TypeError, "True or False",
                     id="credentials-not-bool"),
        pytest.param({"origins": [SITE], "max_age": -1}, ValueError, "max_age", id="negative-max-age"),
        pytest.param({"origins": [SITE], "max_age": 1.5}, ValueError, "max_age", id="float-max-age"),
    ],
)
def test_bad_options(options, error, message):
    with pytest.raises(error, match=message) as raised:
        CORS(echo, **options)
    assert str(raised.value).endswith(".")


def test_origins_may_be_any_iterable_and_case():
    layer = CORS(echo, origins=iter(["HTTPS://App.Example.com", "http://localhost:8080", "http://[::1]:5000"]))
    assert layer.allows(SITE) and layer.allows("http://localhost:8080") and layer.allows("http://[::1]:5000")
    assert not layer.allows("http://localhost:8081")


@pytest.mark.parametrize(
    ("options", "line"),
    [
        pytest.param({"origins": [SITE]}, f"CORS(origins=['{SITE}'], methods=['GET', 'HEAD', 'POST'], "
                     "headers=[], credentials=False, max_age=600)", id="list"),
        pytest.param({"origins": "*", "methods": "*", "headers": "*", "max_age": None},
                     "CORS(origins='*', methods='*', headers='*', credentials=False, max_age=None)",
                     id="star"),
    ],
)
def test_describe(options, line):
    layer = CORS(echo, **options)
    assert layer.app is echo
    assert layer.describe() == line


def test_describe_names_a_callable():
    def partner_sites(origin):
        return origin.endswith(".partner.example")

    assert "origins='partner_sites'" in CORS(echo, origins=partner_sites, credentials=True).describe()


@settings(max_examples=150, deadline=None)
@given(origin=st.one_of(st.none(), st.sampled_from([SITE, OTHER, "null", ""]), st.text(max_size=30)),
       method=st.sampled_from(["GET", "OPTIONS", "PUT", "POST"]),
       request_method=st.one_of(st.none(), st.text(max_size=12)),
       requested=st.one_of(st.none(), st.text(max_size=30)),
       credentials=st.booleans())
def test_any_request_gets_an_answer_and_cors_headers_only_when_allowed(origin, method, request_method,
                                                                        requested, credentials):
    headers = {"Origin": origin, "Access-Control-Request-Method": request_method,
               "Access-Control-Request-Headers": requested}
    headers = {name: value.encode("latin-1", "replace").decode("latin-1").replace("\r", "").replace("\n", "")
               for name, value in headers.items() if value is not None}
    layer = CORS(echo, origins=[SITE], methods=["PUT"], headers=["X-Token"], credentials=credentials)
    response = TestClient(validated(layer)).open("/", method=method, headers=headers)
    assert response.status_code in (200, 204, 403)
    if response.headers.get("Access-Control-Allow-Origin") is not None:
        assert response.headers["Access-Control-Allow-Origin"].lower() == SITE
    if response.status_code != 200:  # answered by the layer: a preflight
        assert method == "OPTIONS" and "Origin" in headers and "Access-Control-Request-Method" in headers
