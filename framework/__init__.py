"""onion-wsgi's application core: ``App``, ``Dispatcher``, requests and responses.

::

    from framework import App

    app = App(__name__)

    @app.get("/")
    def index(request):
        return "Hello, World!"
"""

from .app import App
from .context import flash
from .dispatcher import Dispatcher
from .errors import *  # noqa: F403  (abort and Werkzeug's HTTP exceptions)
from .errors import __all__ as _errors
from .responses import json_response, redirect
from .templating import TemplateResponse
from .wrappers import Request, Response

__version__ = "0.1.0"


__all__ = ["App", "Dispatcher", "Request", "Response", "TemplateResponse", "flash", "json_response",
           "redirect", *_errors]
