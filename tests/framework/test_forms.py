"""URL-encoded form bodies: ``Request``'s direct path against Werkzeug's own parser.

Well-formed bodies give the same ``form``, ``files``, ``values`` and ``get_data()`` as
``werkzeug.Request``; the limits give 413 and malformed input 400 (Werkzeug's
parser would silently drop or keep such fields), never a 500.
"""

from __future__ import annotations

import json

import pytest
import werkzeug
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.test import Client

from framework import App, Request
from framework.testing import validated

FORM = "application/x-www-form-urlencoded"


def form_environ(make_environ, body, content_type=FORM, length=None, query="q=1", **extra):
    environ = make_environ("/f", method="POST", query=query, body=body, CONTENT_TYPE=content_type,
                           **extra)
    environ["CONTENT_LENGTH"] = str(len(body) if length is None else length)
    return environ


BODIES = [
    pytest.param(b"name=Zo%C3%AB&tag=a&tag=b", FORM, id="utf8-and-repeats"),
    pytest.param(b"a=&b&=c", FORM, id="blank-values-and-names"),
    pytest.param(b"greeting=hello+world&plus=%2B", FORM, id="plus-is-space"),
    pytest.param(b"&&a=1&&", FORM, id="empty-fields"),
    pytest.param(b"a=1=2", FORM, id="equals-in-value"),
    pytest.param(b"", FORM, id="empty-body"),
    pytest.param("caf\u00e9=th\u00e9".encode(), FORM, id="raw-utf8"),
    pytest.param(b"k=%e2%82%ac", FORM, id="lowercase-escapes"),
    pytest.param(b"a=1&a=2", FORM + "; charset=UTF-8", id="charset-utf8"),
    pytest.param(b"a=1", FORM + "; charset=ISO-8859-1", id="charset-ignored-as-werkzeug"),
    pytest.param(b"a=1", "Application/X-WWW-Form-URLEncoded", id="media-type-case"),
    pytest.param(b"a=1", "text/plain", id="not-a-form"),
]


@pytest.mark.parametrize(("body", "content_type"), BODIES)
def test_same_result_as_werkzeug(make_environ, body, content_type):
    ours = Request(form_environ(make_environ, body, content_type))
    theirs = werkzeug.Request(form_environ(make_environ, body, content_type))
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert isinstance(ours.form, type(theirs.form))  # our Fields is a subclass
    assert list(ours.files.items(multi=True)) == [] == list(theirs.files.items(multi=True))
    assert list(ours.values.items(multi=True)) == list(theirs.values.items(multi=True))
    assert ours.get_data() == theirs.get_data()


@pytest.mark.parametrize("first", ["files", "values", "form"])
def test_any_of_form_files_values_first(make_environ, first):
    request = Request(form_environ(make_environ, b"a=1"))
    getattr(request, first)
    assert request.form.to_dict() == {"a": "1"} and not request.files
    assert request.stream.read() == b""


def test_get_data_first_keeps_the_body_and_the_form(make_environ):
    ours = Request(form_environ(make_environ, b"a=1&b=2"))
    theirs = werkzeug.Request(form_environ(make_environ, b"a=1&b=2"))
    assert ours.get_data() == theirs.get_data() == b"a=1&b=2"
    assert ours.form.to_dict() == theirs.form.to_dict() == {"a": "1", "b": "2"}
    assert ours.get_data() == theirs.get_data() == b"a=1&b=2"


def test_reads_only_content_length_bytes(make_environ):
    ours = Request(form_environ(make_environ, b"a=1&b=2", length=3))
    theirs = werkzeug.Request(form_environ(make_environ, b"a=1&b=2", length=3))
    assert ours.form.to_dict() == theirs.form.to_dict() == {"a": "1"}


def test_no_content_length_goes_to_werkzeug(make_environ):
    environ = form_environ(make_environ, b"a=1")
    del environ["CONTENT_LENGTH"]
    assert Request(environ).form.to_dict() == {}  # Werkzeug's safe fallback: no length, no body


def test_multipart_stays_on_werkzeugs_parser(make_environ):
    body = (b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
            b'--b\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\n\r\nhi\r\n--b--\r\n')
    request = Request(form_environ(make_environ, body, "multipart/form-data; boundary=b"))
    assert request.form.to_dict() == {"a": "1"}
    assert request.files["f"].read() == b"hi"
    request.close()


class Small(Request):
    max_form_memory_size = 10
    max_form_parts = 2


REFUSED = [
    pytest.param(b"a=%ff", Request, BadRequest, id="escape-not-utf8"),
    pytest.param(b"a=\xff", Request, BadRequest, id="raw-not-utf8"),
    pytest.param(b"a=%zz", Request, BadRequest, id="bad-escape"),
    pytest.param(b"a=%4", Request, BadRequest, id="short-escape"),
    pytest.param(b"a=1&b=%", Request, BadRequest, id="lone-percent"),
    pytest.param(b"a=12345678901", Small, RequestEntityTooLarge, id="max-form-memory-size"),
    pytest.param(b"a&b&c", Small, RequestEntityTooLarge, id="max-form-parts"),
]


@pytest.mark.parametrize(("body", "request_class", "error"), REFUSED)
def test_refused(make_environ, body, request_class, error):
    with pytest.raises(error):
        _ = request_class(form_environ(make_environ, body)).form


def test_truncated_body_is_a_400(make_environ):
    with pytest.raises(BadRequest):
        _ = Request(form_environ(make_environ, b"a=1", length=10)).form


def test_max_content_length(make_environ):
    request = Request(form_environ(make_environ, b"a=12345"))
    request.max_content_length = 4
    with pytest.raises(RequestEntityTooLarge):
        _ = request.form


def app_answering_forms(**options):
    app = App(__name__, **options)

    @app.post("/f")
    def form(request):
        return {"form": request.form.to_dict(flat=False), "q": request.args.get("q")}

    return app


@pytest.mark.parametrize(("body", "length", "status"), [
    pytest.param(b"a=1&a=2", None, 200, id="ok"),
    pytest.param(b"a=%ff", None, 400, id="not-utf8"),
    pytest.param(b"a=%zz", None, 400, id="bad-escape"),
    pytest.param(b"a=1", 50, 400, id="truncated"),
    pytest.param(b"a=" + b"x" * 600_000, None, 413, id="max-form-memory-size"),
    pytest.param(b"&".join([b"a"] * 1001), None, 413, id="max-form-parts"),
])
def test_through_an_app(call, body, length, status):
    result = call(app_answering_forms(), "/f", method="POST", query="q=1", body=body, CONTENT_TYPE=FORM,
                  CONTENT_LENGTH=str(len(body) if length is None else length))
    assert result.status_code == status
    if status == 200:
        assert json.loads(result.body) == {"form": {"a": ["1", "2"]}, "q": "1"}


def test_app_max_content_length_is_a_413():
    client = Client(validated(app_answering_forms(max_content_length=5)))
    response = client.post("/f", data="a=123456", content_type=FORM, buffered=True)
    assert response.status_code == 413


def test_parse_urlencoded_equals_parse_qsl_on_random_texts():
    """Escaped separators, plus signs, escaped percent signs, raw and escaped UTF-8, mixed."""
    import random
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from framework.parsing import parse_urlencoded

    rng = random.Random(3333)
    pieces = ["a", "b", "=", "&", "+", "%26", "%3D", "%3d", "%25", "%2B", "%C3%A9", "é", "%20", " ", "%41"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        expected = MultiDict(parse_qsl(text, keep_blank_values=True, errors="strict"))
        assert list(parse_urlencoded(text).lists()) == list(expected.lists()), text
