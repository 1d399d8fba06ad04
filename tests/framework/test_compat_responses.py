"""Pins the Werkzeug internals behind ``framework.compat.prime_response``.

If one of these fails after a Werkzeug upgrade, ``Response``'s cheap constructor
(framework/wrappers.py) must follow whatever Werkzeug's ``Response.__init__`` and
``status`` setter now store.
"""

from __future__ import annotations

import pytest
import werkzeug

from framework.compat import prime_response


@pytest.mark.parametrize("code", [200, 201, 404, 418, 503])
def test_prime_response_stores_what_the_status_setter_stores(code):
    built = werkzeug.Response("x", status=code)
    primed = object.__new__(werkzeug.Response)
    prime_response(primed, built.status, code)
    assert (primed.status, primed.status_code) == (built.status, built.status_code)
    assert vars(built)["_status"] == built.status and vars(built)["_status_code"] == code


def test_prime_response_gives_close_callbacks_a_list():
    primed = object.__new__(werkzeug.Response)
    primed.response = []
    prime_response(primed, "200 OK", 200)
    called = []
    primed.call_on_close(lambda: called.append(1))
    primed.close()
    assert called == [1]
    assert vars(werkzeug.Response())["_on_close"] == []
