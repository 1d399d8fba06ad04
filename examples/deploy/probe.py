"""The probe app the deployment matrix runs on every server (tests/deploy).

It exercises what differs between servers: query strings, form and large request
bodies, streamed responses, ``HEAD``, 404s, redirects built with ``url_for`` (scheme,
host and prefix as the client saw them) and ``wsgi.file_wrapper``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from werkzeug.wsgi import wrap_file

from framework import App, Response, redirect

#: Served by ``/file`` (through ``wsgi.file_wrapper`` where the server offers one).
FILE = Path(__file__).with_name("probe-file.txt")

app = App(__name__)


@app.get("/echo")
def echo(request):
    return {"method": request.method, "args": request.args.to_dict(flat=False)}


@app.post("/form")
def form(request):
    return {"form": request.form.to_dict(flat=False)}


@app.post("/upload")
def upload(request):
    digest, length = hashlib.sha256(), 0
    while chunk := request.stream.read(65536):  # read as it comes: never the whole body at once
        digest.update(chunk)
        length += len(chunk)
    return {"sha256": digest.hexdigest(), "length": length}


@app.get("/stream")
def stream(request):
    def chunks():
        for number in range(50):
            yield f"chunk {number:02d}\n"

    return chunks(), {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/redirect")
def go(request):
    return redirect(request.url_for("target", _external=True))


@app.get("/target")
def target(request):
    return {"url": request.url, "scheme": request.scheme, "host": request.host,
            "root": request.root_path, "remote_addr": request.remote_addr}


@app.get("/file")
def file(request):
    offered = request.environ.get("wsgi.file_wrapper")
    body = wrap_file(request.environ, FILE.open("rb"))
    response = Response(body, mimetype="text/plain", direct_passthrough=True)
    response.content_length = FILE.stat().st_size
    response.headers["X-File-Wrapper"] = "none" if offered is None else type(body).__name__
    return response
