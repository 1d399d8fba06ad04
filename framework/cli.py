"""The command line: serve an app, list its routes, show its onion, build static assets.

.. code-block:: text

    python -m framework run module:app [--host H] [--port P] [--reload] [--debug]
                                       [--server NAME] [--workers N] [--threads N]
    python -m framework routes module:app
    python -m framework stack module:app
    python -m framework assets DIR [--no-compress] [--no-rewrite]

``module:app`` names a module importable from the current directory and an
attribute in it (dotted for nested objects); without ``:app`` the attribute is
``app``, else ``application``.

Every error that stops a command before it serves (a target that cannot be imported
or found, a bad option, a busy port, a static directory that is not there) is one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import site
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .assets import build_assets
from .introspection import describe_object, describe_stack
from .mounting import MountTable
from .servers import SERVERS, ServerError, ServerOptions, serve

__all__ = ["load_app", "main", "routes_table"]


class TargetError(Exception):
    """The ``module:app`` target cannot be loaded; the message says why."""


def load_app(target: str) -> Any:
    """Import ``module:attr`` and return the WSGI callable it names."""
    module_name, _, attr = target.partition(":")
    if not module_name:
        raise TargetError(f"{target!r} names no module; use module:app, e.g. examples.hello:app")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001  (any error of the user's module is one line)
        raise TargetError(import_failure(module_name, error)) from None
    names = [attr] if attr else ["app", "application"]
    for name in names:
        obj: Any = module
        try:
            for part in name.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        if not callable(obj):
            raise TargetError(f"{module_name}:{name} is a {type(obj).__name__}, "
                              "not a WSGI callable (app(environ, start_response))")
        return obj
    raise TargetError(f"module {module_name!r} has no attribute "
                      f"{' or '.join(repr(name) for name in names)}")


def import_failure(module_name: str, error: Exception) -> str:
    """One line saying why importing *module_name* raised *error*, and where."""
    if isinstance(error, ModuleNotFoundError) and error.name:
        if module_name == error.name or module_name.startswith(f"{error.name}."):
            return (f"cannot import module {module_name!r}: no such module "
                    "(run from the folder that contains it)")
        return (f"importing {module_name!r} failed: it needs the module {error.name.partition('.')[0]!r}, "
                "which is not installed")
    if isinstance(error, SyntaxError):  # its message names the file and line already
        return f"importing {module_name!r} failed: {one_line(error)}"
    return f"importing {module_name!r} raised {one_line(error)}{where(error)}"


def one_line(error: BaseException) -> str:
    """``TypeName: message`` on one line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def where(error: BaseException) -> str:
    """`` (file.py, line N)``: where in the user's code *error* was raised.

    That is the innermost line the exception went through that is not Python's, an
    installed package's or this module's (else the innermost line), relative to the
    current folder when it is inside it.
    """
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not frame.filename.startswith("<") and frame.filename != __file__]
    if not frames:
        return ""
    installed = {Path(folder) for folder in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                            sys.base_exec_prefix, *site.getsitepackages())}
    users = [frame for frame in frames
             if not any(Path(frame.filename).is_relative_to(folder) for folder in installed)]
    path, line = Path((users or frames)[-1].filename), (users or frames)[-1].lineno
    here = Path.cwd()
    return f" ({path.relative_to(here) if path.is_relative_to(here) else path}, line {line})"


def _whole(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def port_number(text: str) -> int:
    """``--port``: a TCP port, 1 to 65535 (0, "any free port", would hide which one)."""
    number = _whole(text)
    if number is None or not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to 65535")
    return number


def positive_count(text: str) -> int:
    """``--workers`` and ``--threads``: a whole number, at least 1."""
    number = _whole(text)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return number


def routes_table(app: Any) -> list[tuple[str, str, str]]:
    """``(rule, methods, name)`` rows for an ``App`` or ``Dispatcher`` (mounts included)."""
    rows = [(route.rule, ", ".join(sorted(route.methods)), route.name) for route in app.routes]
    mounts = getattr(app, "mounts", None)
    if isinstance(mounts, MountTable):
        for where, mounted in mounts.entries():
            if where.startswith("/"):
                rows.append((f"{where}/*", "*", f"mount: {describe_object(mounted)}"))
    return rows


def _print_table(rows: Sequence[tuple[str, str, str]]) -> None:
    header = ("Rule", "Methods", "Name")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    for row in (header, tuple("-" * width for width in widths), *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _assets(directory: str, *, compress: bool, rewrite: bool) -> int:
    """``assets DIR``: build, print the summary; a bad directory is one line, status 2."""
    try:
        report = build_assets(directory, compress=compress, rewrite=rewrite)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m framework", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the app with the development server")
    run.add_argument("target", help="module:app")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=port_number, default=8000, help="1 to 65535")
    run.add_argument("--reload", action="store_true", help="restart when a source file changes")
    run.add_argument("--debug", action="store_true", help="tracebacks and the interactive debugger")
    run.add_argument("--server", default="werkzeug", choices=sorted(SERVERS),
                     help="werkzeug (development, the default), gunicorn, waitress, gevent or uwsgi")
    run.add_argument("--workers", type=positive_count, help="processes (gunicorn, uwsgi, werkzeug)")
    run.add_argument("--threads", type=positive_count,
                     help="threads per process (greenlets for gevent)")
    commands.add_parser("routes", help="list the app's routes").add_argument("target")
    commands.add_parser("stack", help="show the onion of layers").add_argument("target")
    assets = commands.add_parser(
        "assets", help="fingerprinted copies, .gz/.br siblings and manifest.json for StaticFiles")
    assets.add_argument("directory", help="the static directory, e.g. public")
    assets.add_argument("--no-compress", dest="compress", action="store_false",
                        help="write no .gz/.br siblings (and remove those of earlier runs)")
    assets.add_argument("--no-rewrite", dest="rewrite", action="store_false",
                        help="leave url(), @import and sourceMappingURL references in the copies as they are")
    args = parser.parse_args(argv)
    if args.command == "assets":
        return _assets(args.directory, compress=args.compress, rewrite=args.rewrite)
    try:
        app = load_app(args.target)
    except TargetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "routes":
        if not hasattr(app, "routes"):
            print(f"error: {args.target} is not an App or Dispatcher; it has no routes",
                  file=sys.stderr)
            return 2
        _print_table(routes_table(app))
    elif args.command == "stack":
        print("\n".join(describe_stack(app)))
    else:
        options = ServerOptions(args.target, args.host, args.port, args.workers, args.threads,
                                args.debug, args.reload)
        try:
            serve(args.server, app, options)
        except ServerError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    return 0
