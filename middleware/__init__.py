"""onion-wsgi's layers: each a WSGI callable that wraps any WSGI application.

The layers themselves arrive with their issues; this package is their home.
"""

__all__: list[str] = []
