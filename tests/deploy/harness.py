"""The deployment matrix's shared parts: the configuration files and the probe.

Every row starts real servers with ``support.Process`` (re-exported here), fills the files of
``examples/deploy`` with :func:`render` (ports and paths only), runs :func:`probe`
against the URL a client uses, and stops everything by PID.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import pwd
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from support import Process, free_port, missing, require_module, require_program  # noqa: F401  (for the rows)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "examples" / "deploy"
PROBE_FILE = DEPLOY / "probe-file.txt"
PYTHON = sys.executable


def render(name: str, values: Mapping[str, str], directory: Path) -> Path:
    """Copy ``examples/deploy/<name>`` to *directory*, replacing each key of *values*.

    Only ports and paths are replaced, so what runs is the file a person copies.
    A key that is not in the file is an error: the file and the test went apart.
    """
    text = (DEPLOY / name).read_text()
    for old, new in values.items():
        if old not in text:
            raise AssertionError(f"{old!r} is not in examples/deploy/{name}; update the test")
        text = text.replace(old, new)
    target = directory / name
    target.write_text(text)
    target.chmod((DEPLOY / name).stat().st_mode)
    return target


def start_nginx(conf: str, values: Mapping[str, str], directory: Path,
                listen: tuple[str, str] = ("listen 80;", "listen 127.0.0.1:{port};")) -> tuple[Process, int]:
    """Run ``examples/deploy/<conf>`` with ``-p directory/nginx``, listening on a free port.

    :param values: Further replacements (upstream ports, socket paths).
    :param listen: The file's listen value and what replaces it (``{port}`` filled in).
    """
    nginx = require_program("nginx", "apt-get install nginx")
    port = free_port()
    prefix = directory / "nginx"
    (prefix / "logs").mkdir(parents=True)
    directory.chmod(0o755)  # started as root, the workers run as another user: let them in
    prefix.chmod(0o755)
    replacements = {listen[0]: listen[1].format(port=port), **values}
    if "user www-data;" in (DEPLOY / conf).read_text():
        # The workers run as the test's user, who owns the sockets' temporary directory (a
        # deployment keeps www-data and gives it the socket's group; see the file).
        replacements["user www-data;"] = f"user {pwd.getpwuid(os.geteuid()).pw_name};"
    config = render(conf, replacements, prefix)
    # -e: the log of start-up errors, before the config's error_log is read.
    server = Process([nginx, "-p", f"{prefix}/", "-c", config, "-e", "stderr", "-g", "daemon off;"],
                     wait_for=("127.0.0.1", port))
    return server, port


# -- the probe ---------------------------------------------------------------------------------

def request(base: str, method: str, path: str, body: bytes | None = None,
            headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes, list[bytes]]:
    """One real HTTP request; ``(status, headers, body, chunks as read)``. No redirects followed."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(method, url.path.rstrip("/") + path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        chunks = []
        while chunk := response.read1(65536) if method != "HEAD" else b"":
            chunks.append(chunk)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, b"".join(chunks), chunks
    finally:
        connection.close()


def probe(base: str, *, file_wrapper: bool | None = None, external: str | None = None) -> None:
    """Check the probe app at *base* (``http://127.0.0.1:8080/prefix``) from a client's side.

    :param file_wrapper: Whether the server offers ``wsgi.file_wrapper`` (``None``: not checked).
    :param external: The scheme and host the redirect must carry (default: *base*'s).
    """
    url = urllib.parse.urlsplit(base)
    origin = external or f"{url.scheme}://{url.netloc}"
    prefix = url.path.rstrip("/")
    failures = []

    def check(what: str, condition: bool, detail: object = "") -> None:
        if not condition:
            failures.append(f"{what}: {detail}")

    status, headers, body, _ = request(base, "GET", "/echo?name=caf%C3%A9&n=1&n=2")
    check("GET with a query", status == 200 and json.loads(body) == {
        "method": "GET", "args": {"name": ["café"], "n": ["1", "2"]}}, (status, body[:200]))

    form = urllib.parse.urlencode({"title": "two words & more", "tag": "é"}).encode()
    status, headers, body, _ = request(base, "POST", "/form", form,
                                       {"Content-Type": "application/x-www-form-urlencoded"})
    check("POST form", status == 200 and json.loads(body) == {
        "form": {"title": ["two words & more"], "tag": ["é"]}}, (status, body[:200]))

    payload = os.urandom(1024 * 1024)
    status, headers, body, _ = request(base, "POST", "/upload", payload,
                                       {"Content-Type": "application/octet-stream"})
    check("POST 1 MB", status == 200 and json.loads(body) == {
        "sha256": hashlib.sha256(payload).hexdigest(), "length": len(payload)}, (status, body[:200]))

    status, headers, body, chunks = request(base, "GET", "/stream")
    expected = "".join(f"chunk {number:02d}\n" for number in range(50)).encode()
    check("streamed 50 chunks, in order and complete", status == 200 and body == expected,
          (status, body[:120], len(chunks)))

    status, headers, body, _ = request(base, "HEAD", "/echo")
    check("HEAD", status == 200 and body == b"" and headers.get("content-type") == "application/json",
          (status, headers, body[:80]))

    status, headers, body, _ = request(base, "GET", "/no/such/page")
    check("404", status == 404, status)

    status, headers, body, _ = request(base, "GET", "/redirect")
    check("redirect from url_for", status == 302 and headers.get("location") == f"{origin}{prefix}/target",
          (status, headers.get("location"), f"{origin}{prefix}/target"))

    status, headers, body, _ = request(base, "GET", "/file")
    check("file", status == 200 and body == PROBE_FILE.read_bytes(), (status, len(body)))
    if file_wrapper is not None:
        offered = headers.get("x-file-wrapper", "none") != "none"
        check("wsgi.file_wrapper offered" if file_wrapper else "no wsgi.file_wrapper",
              offered == file_wrapper, headers.get("x-file-wrapper"))
    assert not failures, "the probe failed at " + base + ":\n  " + "\n  ".join(failures)
