"""The smallest onion-wsgi application.

Run it from the repository root::

    python -m framework run examples.hello:app

then open http://127.0.0.1:8000/. Or try it in-process, with no server::

    >>> from examples.hello import app
    >>> app.test_client().get("/").text
    'Hello, World!'
"""

from framework import App

app = App(__name__)


@app.get("/")
def index(request):
    return "Hello, World!"


if __name__ == "__main__":
    app.run()
