"""framework/compat.py: the private Werkzeug (and stdlib) behaviour we rely on, pinned.

When one of these fails after an upgrade, the message names what changed; fix the
function in ``framework/compat.py`` and nothing else.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers, ImmutableMultiDict, MultiDict
from werkzeug.routing import Map, Rule

from framework.compat import (
    Fields,
    headers_from_pairs,
    headers_list,
    json_encoder,
    multidict_from_lists,
    response_has_close_callbacks,
    rule_converters,
    rule_parts,
)
from framework.wrappers import Response


def bound(rule_text: str) -> Rule:
    rule = Rule(rule_text, endpoint="e")
    Map([rule], strict_slashes=True, merge_slashes=False)
    return rule


@pytest.mark.parametrize(
    ("rule_text", "expected"),
    [
        pytest.param("/a/b", [("", False, True), ("a", False, True), ("b", False, True)], id="static"),
        pytest.param("/u/<int:id>", [("", False, True), ("u", False, True), (None, False, False)], id="int"),
        pytest.param("/f/<path:p>", [("", False, True), ("f", False, True), (None, True, False)],
                     id="path-is-final"),
        pytest.param("/x-<a>-<b>", [("", False, True), (None, False, False)], id="two-in-one-segment"),
    ],
)
def test_rule_parts(rule_text, expected):
    # The first part is the empty segment before the leading slash: "/".join gives the path.
    parts = rule_parts(bound(rule_text))
    assert [(p.content if p.static else None, p.final, p.static) for p in parts] == expected, (
        "Werkzeug's Rule._parts changed shape: update framework.compat.rule_parts")
    for part in parts:
        if not part.static:
            assert "(?P<__werkzeug_0>" in part.content, "dynamic parts name their groups __werkzeug_N"
    assert all(part.weight is not None for part in parts)


def test_rule_converters_in_rule_order():
    converters = rule_converters(bound("/x/<int:a>/<b>/<path:c>"))
    assert list(converters) == ["a", "b", "c"], "Rule._converters is no longer a dict by argument name"
    assert converters["a"].to_python("7") == 7


def test_headers_from_pairs_uses_the_list_unchecked():
    pairs = [("Content-Type", "text/plain"), ("X-A", "1")]
    headers = headers_from_pairs(pairs)
    assert headers.get("content-type") == "text/plain"
    headers["X-B"] = "2"
    assert pairs[-1] == ("X-B", "2"), "Headers no longer stores its pairs in ._list"
    assert headers_list(headers) is pairs
    assert headers_list(Headers([("A", "b")])) == [("A", "b")]


def test_response_close_callbacks():
    response = Response("x")
    assert not response_has_close_callbacks(response)
    response.call_on_close(lambda: None)
    assert response_has_close_callbacks(response), "Response._on_close is gone"


def test_json_encoder_compact_non_ascii_with_default():
    iterencode = json_encoder(lambda value: sorted(value))

    def encode(value):
        return "".join(iterencode(value, 0))

    assert encode({"a": [1, 2.5, None, True], "é": "ü"}) == '{"a":[1,2.5,null,true],"é":"ü"}'
    assert encode({"s": {2, 1}}) == '{"s":[1,2]}'


@pytest.mark.parametrize(
    "pairs",
    [
        pytest.param([], id="empty"),
        pytest.param([("a", "1")], id="one"),
        pytest.param([("a", "1"), ("b", "2"), ("a", "3"), ("", "")], id="repeated-and-empty"),
    ],
)
@pytest.mark.parametrize("cls", [MultiDict, ImmutableMultiDict])
def test_multidict_from_lists_equals_the_constructor(cls, pairs):
    lists: dict[str, list[str]] = {}
    for key, value in pairs:
        lists.setdefault(key, []).append(value)
    built = multidict_from_lists(cls, lists)
    expected = cls(pairs)
    assert type(built) is cls
    assert list(built.items(multi=True)) == list(expected.items(multi=True)), (
        "MultiDict no longer stores a dict of value lists: update compat.multidict_from_lists")
    assert built == expected and built.to_dict() == expected.to_dict()
    if cls is ImmutableMultiDict:
        with pytest.raises(TypeError):
            built["x"] = "y"
        assert hash(built) == hash(expected)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda f: f.get("a"), "1", id="get-first"),
        pytest.param(lambda f: f.get("zz"), None, id="get-missing"),
        pytest.param(lambda f: f.get("zz", "d"), "d", id="get-default"),
        pytest.param(lambda f: f.get("n", type=int), 5, id="get-type"),
        pytest.param(lambda f: f.get("a", type=int), 1, id="get-type-first"),
        pytest.param(lambda f: f.get("e", -1, type=int), -1, id="get-type-fails"),
        pytest.param(lambda f: f["a"], "1", id="item-first"),
        pytest.param(lambda f: f.getlist("a"), ["1", "3"], id="getlist"),
        pytest.param(lambda f: f.to_dict(), {"a": "1", "n": "5", "e": "x"}, id="to_dict"),
    ],
)
def test_fields_answer_as_werkzeug_does(call, expected):
    pairs = [("a", "1"), ("n", "5"), ("a", "3"), ("e", "x")]
    assert call(Fields(pairs)) == expected == call(ImmutableMultiDict(pairs))


def test_fields_missing_key_is_werkzeugs_400():
    from werkzeug.exceptions import BadRequestKeyError

    with pytest.raises(BadRequestKeyError):
        Fields([("a", "1")])["b"]
