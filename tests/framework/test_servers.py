"""`run --server NAME`: the adapters' errors (the servers themselves run in tests/deploy)."""

from __future__ import annotations

import errno
import socket
import sys

import pytest

from framework import cli, servers


@pytest.fixture
def hello_module(tmp_path, monkeypatch):
    (tmp_path / "servers_probe_app.py").write_text(
        "from framework import App\napp = App(__name__)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return "servers_probe_app:app"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--server", "gunicorn", "--reload"], "--reload works only with the werkzeug",
                     id="reload-needs-werkzeug"),
        pytest.param(["--server", "waitress", "--debug"], "--debug (the interactive debugger) works only",
                     id="debug-needs-werkzeug"),
        pytest.param(["--server", "waitress", "--workers", "3"], "waitress runs one process",
                     id="waitress-one-process"),
        pytest.param(["--server", "gevent", "--workers", "2"], "gevent runs one process",
                     id="gevent-one-process"),
    ],
)
def test_refused_combinations_are_one_clear_line(hello_module, capsys, argv, message):
    assert cli.main(["run", hello_module, *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


@pytest.mark.parametrize(
    ("server", "module", "extra"),
    [
        pytest.param("gunicorn", "gunicorn", "gunicorn", id="gunicorn"),
        pytest.param("waitress", "waitress", "waitress", id="waitress"),
        pytest.param("gevent", "gevent", "gevent", id="gevent"),
    ],
)
def test_a_missing_server_names_the_extra(hello_module, capsys, monkeypatch, server, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    assert cli.main(["run", hello_module, "--server", server]) == 2
    assert f"pip install 'onion-wsgi[{extra}]'" in capsys.readouterr().err


def test_a_missing_uwsgi_program_names_the_extra(hello_module, capsys, monkeypatch):
    monkeypatch.setattr(servers.shutil, "which", lambda name: None)
    assert cli.main(["run", hello_module, "--server", "uwsgi"]) == 2
    assert "pip install 'onion-wsgi[uwsgi]'" in capsys.readouterr().err


def test_unknown_server_is_refused_by_the_parser(hello_module, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", hello_module, "--server", "nope"])
    assert exit_.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_default_workers_follow_gunicorns_advice():
    assert servers.default_workers() == 2 * (servers.os.cpu_count() or 1) + 1


@pytest.mark.parametrize(
    ("error", "message"),
    [
        pytest.param(OSError(errno.EADDRINUSE, "Address already in use"),
                     "port 8000 on 127.0.0.1 is busy (another server listens there; choose another --port)",
                     id="busy"),
        pytest.param(OSError(errno.EACCES, "Permission denied"),
                     "cannot listen on port 8000 on 127.0.0.1: permission denied "
                     "(ports below 1024 need root; choose a higher --port)", id="privileged"),
        pytest.param(socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
                     "cannot listen on '127.0.0.1': not a local address or host name "
                     "(Name or service not known)",
                     id="unknown-host"),
        pytest.param(OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"),
                     "cannot listen on 127.0.0.1:8000: Cannot assign requested address", id="not-local"),
    ],
)
def test_address_errors_are_one_sentence(error, message):
    assert str(servers.address_error("127.0.0.1", 8000, error)) == message


@pytest.mark.parametrize(
    ("host", "says"),
    [
        pytest.param("no-such-host.invalid", "not a local address or host name", id="unknown-host"),
        pytest.param("192.0.2.1", "Cannot assign requested address", id="not-this-machine"),
    ],
)
def test_check_address_refuses_what_cannot_be_listened_on(host, says):
    with pytest.raises(servers.ServerError, match=says):
        servers.check_address(host, 8000)


def test_check_address_finds_a_busy_port_and_passes_a_free_one():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(servers.ServerError, match=f"port {port} on 127.0.0.1 is busy"):
            servers.check_address("127.0.0.1", port)
    servers.check_address("127.0.0.1", port)  # closed: free again
