"""onion-wsgi's layers: each a WSGI callable that wraps any WSGI application.

Every layer has one shape::

    layer = Layer(app, **options)   # the wrapped app is the only positional argument
    layer.app                       # ... and is kept, so the onion can be walked
    layer(environ, start_response)  # a WSGI application itself

Options are keyword-only and checked when the layer is built. A layer works around
any WSGI app, passes ``wsgiref.validate``, streams bodies it does not rewrite, calls
``close()`` on the inner iterable, forwards ``exc_info``, and answers bad input with
a clear 4xx. Path prefixes in options match at segment boundaries: ``/admin`` covers
``/admin`` and ``/admin/x``, never ``/administrator``.

Compose layers with :class:`Stack` (first given is outermost); serve several apps in
one with :class:`Mount`; ``ProxyFix`` is Werkzeug's. Authentication and authorization:
:class:`BasicAuth`, :class:`TokenAuth`, :class:`Sessions`, :class:`FormLogin`,
:class:`Authorize` (``docs/auth.md``). Rate limiting: :class:`RateLimit`
(``docs/ratelimit.md``). Static files: :class:`StaticFiles` (``docs/static.md``).
XML turned into HTML: :class:`XSLT` (``docs/xslt.md``). A load-balancing reverse
proxy: :class:`Proxy` (``docs/proxy.md``; imported on first use, so urllib3 is loaded
only by apps that forward). Compression and CORS: :class:`Compress`,
:class:`CORS` (``docs/compress-cors.md``). The helpers
for writing a layer of your own are the public :mod:`middleware.toolkit` (see
``docs/middleware.md``).
"""

from typing import TYPE_CHECKING, Any

from werkzeug.middleware.proxy_fix import ProxyFix

from .auth import BasicAuth, TokenAuth
from .authorize import Authorize
from .compress import Compress
from .cors import CORS
from .login import FormLogin
from .mount import Mount
from .ratelimit import RateLimit
from .sessions import Sessions
from .stack import Stack
from .static import StaticFiles
from .xslt import XSLT

if TYPE_CHECKING:
    from .proxy import Proxy

__all__ = ["CORS", "XSLT", "Authorize", "BasicAuth", "Compress", "FormLogin", "Mount", "Proxy", "ProxyFix",
           "RateLimit", "Sessions", "Stack", "StaticFiles", "TokenAuth"]


def __getattr__(name: str) -> Any:
    """``Proxy``, imported on first use: urllib3 is not loaded for apps that never forward."""
    if name == "Proxy":
        from .proxy import Proxy

        return Proxy
    raise AttributeError(f"module 'middleware' has no attribute {name!r}")
