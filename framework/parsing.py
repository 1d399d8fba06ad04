"""Reading request input: PEP 3333 text, URL-encoded fields, exact body reads.

The pure pieces under :class:`framework.wrappers.Request`, each refusing malformed
input with a 400 rather than guessing::

    parse_urlencoded("a=1&a=2&name=Zo%C3%AB")   # Fields: a -> ["1", "2"], name -> ["Zoë"]
    wsgi_text(environ, "PATH_INFO")             # UTF-8 text, 400 for invalid bytes
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload
from urllib.parse import unquote_to_bytes

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, ClientDisconnected

from .compat import Fields, multidict_from_lists

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["BAD_PERCENT", "FORM_URLENCODED", "lazy", "parse_urlencoded", "read_exactly", "wsgi_text"]

# RFC 3986 2.1: "%" must be followed by two hexadecimal digits.
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def wsgi_text(environ: WSGIEnvironment, key: str) -> str:
    """Decode a PEP 3333 "bytes as latin-1" string as UTF-8, refusing invalid bytes."""
    value: str = environ.get(key) or ""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadRequest(f"The {key.replace('_', ' ').lower()} is not valid UTF-8.") from None


def parse_urlencoded(text: str, cls: type[MultiDict[str, str]] = Fields) -> MultiDict[str, str]:
    """The fields of a query string or URL-encoded form body, as ``request.args`` holds them.

    The same as ``MultiDict(urllib.parse.parse_qsl(text, keep_blank_values=True))``
    (``+`` is a space, empty fields are skipped, ``a`` is ``a=""``), but
    percent-escapes that do not decode as UTF-8 raise :exc:`UnicodeDecodeError`
    instead of being replaced. The caller refuses malformed escapes
    (:data:`BAD_PERCENT`) first. One loop groups the values by name.

    :param cls: The ``MultiDict`` class to return (``Request.parameter_storage_class``).
    """
    if "+" in text:
        text = text.replace("+", " ")
    escaped = "%" in text
    if escaped and not ("%26" in text or "%3D" in text or "%3d" in text):
        # No escaped "&" or "=": the whole text unquotes at once, then splits as is.
        text = unquote_to_bytes(text).decode()
        escaped = False
    lists: dict[str, list[str]] = {}
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if escaped:  # an escaped separator is data: unquote each part after the split
            if "%" in name:
                name = unquote_to_bytes(name).decode()
            if "%" in value:
                value = unquote_to_bytes(value).decode()
        values = lists.get(name)
        if values is None:
            lists[name] = [value]
        else:
            values.append(value)
    return multidict_from_lists(cls, lists)


FORM_URLENCODED = "application/x-www-form-urlencoded"


def read_exactly(stream: Any, length: int, data: bytes = b"") -> bytes:
    """*length* bytes of *stream* after the *data* already read; 400 if it ends before.

    ``ClientDisconnected``: a body shorter than its ``Content-Length`` is a client that went away, as
    Werkzeug's ``LimitedStream`` says.
    """
    while len(data) < length:
        more = stream.read(length - len(data))
        if not more:
            raise ClientDisconnected()
        data += more
    return data


T = TypeVar("T")


class lazy(Generic[T]):  # noqa: N801  (used as a decorator, like property)
    """A cached property that costs a plain attribute lookup once computed.

    Werkzeug's ``cached_property`` is a data descriptor: every access, even cached,
    runs its Python ``__get__``. This one is a non-data descriptor: the first access
    computes the value and stores it in the instance's ``__dict__``, which answers
    every later access directly (assigning or deleting it works as usual).
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value
