"""One module per framework, each with ``BUILDERS``: scenario name -> () -> WSGI app.

Every app answers the same requests with the same status and an equivalent body
(see ``scenarios.py``), written the way its framework's documentation shows.
The routing apps have ``N_ROUTES`` static rules ``/s{i}`` and ``N_ROUTES`` dynamic
rules ``/r{i}/<int:id>/items`` answering ``{"route": i, "id": id}``.
"""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"  # page.html, shared by every framework
N_ROUTES = 100
TITLE = "Items & prices"
ITEMS = [{"name": f"item <{i}>", "price": f"{i * 1.25:.2f}"} for i in range(10)]
