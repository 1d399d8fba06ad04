"""Every private name of Werkzeug (and of the standard library) that we rely on, in one place.

Werkzeug's public API does not offer everything the fast paths need: the parsed parts
of a rule, a ``Headers`` built from pairs without re-checking each one, whether a
response has close callbacks. Each such access is a function here, and
``tests/framework/test_compat.py`` pins the behaviour it relies on, so a Werkzeug
upgrade that changes one fails that one test with a clear message instead of
breaking routing or responses in some distant place.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from werkzeug.datastructures import Headers, ImmutableMultiDict, MultiDict

if TYPE_CHECKING:
    from werkzeug.routing import BaseConverter, Rule
    from werkzeug.wrappers import Response

__all__ = [
    "Fields", "RulePart", "headers_from_pairs", "headers_list", "json_encoder", "multidict_from_lists",
    "prime_response", "response_has_close_callbacks", "rule_converters", "rule_parts",
]


class RulePart(NamedTuple):
    """One path segment of a compiled Werkzeug rule (``werkzeug.routing.rules.RulePart``)."""

    #: The segment's text (static) or its regex with named groups ``__werkzeug_N`` (dynamic).
    content: str
    #: Whether the segment may span slashes (a ``path`` converter).
    final: bool
    #: Whether the segment has no converter.
    static: bool
    #: Werkzeug's sort key: lower matches first.
    weight: Any


def rule_parts(rule: Rule) -> list[RulePart]:
    """The path segments of a bound *rule* (after ``Map.add``), without the host part.

    Werkzeug keeps them in ``Rule._parts``, after the host part. The first path part is
    the empty text before the leading slash, so the static parts joined by ``"/"`` give
    the path.
    """
    parts = rule._parts
    return [RulePart(part.content, part.final, part.static, part.weight) for part in parts[1:]]


def rule_converters(rule: Rule) -> dict[str, BaseConverter]:
    """The converters of a bound *rule*, by argument name, in the rule's order (``Rule._converters``)."""
    converters: dict[str, BaseConverter] = rule._converters
    return converters


def headers_from_pairs(pairs: list[tuple[str, str]]) -> Headers:
    """A ``Headers`` over *pairs* (used as is, not copied), without re-validating each pair.

    The pairs come from a WSGI app or from our own code; Werkzeug's constructor would
    check every one, which costs more than most layers' whole work.
    """
    headers = Headers()
    headers._list = pairs  # type: ignore[attr-defined]
    return headers


def headers_list(headers: Headers) -> list[tuple[str, str]]:
    """The list a ``Headers`` keeps its pairs in (``Headers._list``), to read without a copy."""
    pairs: list[tuple[str, str]] = headers._list  # type: ignore[attr-defined]
    return pairs


def response_has_close_callbacks(response: Response) -> bool:
    """Whether ``response.call_on_close`` registered anything (``Response._on_close``)."""
    return bool(response._on_close)


def json_encoder(default: Callable[[Any], Any]) -> Callable[[Any, int], Iterator[str]]:
    """A compact JSON encoder (``ensure_ascii=False``, no circular check) calling *default*.

    ``json.dumps`` builds a new encoder for each call, which costs more than encoding a
    small dict; the C encoder (``json.encoder.c_make_encoder``, not public) is built
    once here and returned as is: ``"".join(encode(value, 0))`` is the JSON text, with
    no Python call in between. Without it (a Python build lacking the accelerator), the
    public ``JSONEncoder.iterencode`` takes the same arguments.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        fallback = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False,
                                    default=default).iterencode
        return lambda value, _indent: fallback(value)
    encode: Callable[[Any, int], Iterator[str]] = make(
        None, default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return encode


def prime_response(response: Response, status: str, status_code: int) -> None:
    """Give a response built without ``Response.__init__`` the state Werkzeug's would have.

    Sets the status line and code as the ``status`` setter stores them
    (``_status``, ``_status_code``) and the empty close-callback list
    (``_on_close``), so that ``status``, ``status_code``, ``call_on_close`` and
    ``close`` work as on a response Werkzeug built. *status* must be the line the
    setter would store for *status_code* (``"200 OK"``).
    """
    response._status = status  # type: ignore[attr-defined]
    response._status_code = status_code  # type: ignore[attr-defined]
    response._on_close = []  # type: ignore[attr-defined]


MD = TypeVar("MD", bound=MultiDict)  # type: ignore[type-arg]


def multidict_from_lists(cls: type[MD], lists: dict[str, list[str]]) -> MD:
    """A ``cls`` (``MultiDict`` or ``ImmutableMultiDict``) holding *lists*, used as they are.

    A ``MultiDict`` is a ``dict`` of non-empty value lists; its constructor fills it
    through a general loop. A parser that groups values itself stores them with
    ``dict.update``, which also works on the immutable variant (it is still empty).
    """
    result = cls()
    dict.update(result, lists)
    return result


class Fields(ImmutableMultiDict):  # type: ignore[type-arg]
    """Werkzeug's ``ImmutableMultiDict`` with a direct ``get`` and ``[]``: ``request.args``/``form``.

    A handler reads fields with ``get`` far more often than anything else; Werkzeug's
    goes through two Python-level calls. The first value of a key is the first item
    of the list the dict stores for it (never empty). Everything else, including
    ``get(key, type=int)`` and the ``BadRequestKeyError`` of a missing key, is
    Werkzeug's own.
    """

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        """The first value for *key*, or *default*; converted by *type* when given."""
        if type is None:
            values = dict.get(self, key)
            return default if values is None else values[0]
        return super().get(key, default, type)

    def __getitem__(self, key: Any) -> Any:
        values = dict.get(self, key)
        if values:
            return values[0]
        return super().__getitem__(key)
