"""The whole onion in-process (WebTest): each layer does its work with all the others around it.

``tests/onion_app.py`` stacks every layer with ``wsgiref.validate`` between each pair; WebTest
adds its own lint outside. The same onion under a real gunicorn: ``test_onion_gunicorn.py``;
random requests through it: ``test_onion_fuzz.py``.
"""

from __future__ import annotations

import json

import onion_app
import pytest
from webtest import TestApp


@pytest.fixture
def client():
    return TestApp(onion_app.build(), extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def log_in(client, username, password, next_value="/admin"):
    form = client.get("/login").forms[0]
    form["username"], form["password"], form["next"] = username, password, next_value
    return form.submit()


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        pytest.param("/", 200, "<h1>The whole onion</h1>", id="app"),
        pytest.param("/wsgi/x/y", 200, '"script_name": "/wsgi", "path_info": "/x/y"',
                     id="mounted-plain-wsgi"),
        pytest.param("/wsgix", 404, "Not Found", id="mount-segment-boundary"),
        pytest.param("/nowhere", 404, "Not Found", id="miss"),
    ],
)
def test_plain_requests_go_through_every_layer(client, path, status, expected):
    response = client.get(path, status=status)
    assert expected in response.text
    assert "RateLimit" in response.headers


def test_sessions_keep_a_counter(client):
    assert [client.get("/visits").json["visits"] for _ in range(3)] == [1, 2, 3]


def test_admin_redirects_to_login_then_lets_alice_in(client):
    response = client.get("/admin", status=303)
    assert response.location.endswith("/login?next=%2Fadmin")
    response = log_in(client, "alice", "alice-pw")
    assert response.status_int == 303 and response.location.endswith("/admin")
    assert "Welcome, alice." in client.get("/admin").text


def test_authorize_refuses_a_user_not_in_the_rule(client):
    log_in(client, "bob", "bob-pw")
    assert client.get("/admin", status=403).status_int == 403


def test_wrong_password_is_refused(client):
    response = log_in(client, "alice", "wrong")
    assert response.status_int in (200, 401)
    client.get("/admin", status=303)


def test_rate_limit_answers_429_with_retry_after(client):
    for _ in range(3):
        client.get("/limited", status=404)
    response = client.get("/limited", status=429)
    assert int(response.headers["Retry-After"]) >= 1


def test_streamed_response_arrives_whole(client):
    response = client.get("/stream?n=20")
    lines = response.text.splitlines()
    assert len(lines) == 20 and lines[-1].startswith("chunk 0019 ")


def test_post_body_reaches_the_app(client):
    body = bytes(range(256)) * 100
    response = client.post("/echo", body, content_type="application/octet-stream")
    assert response.json["length"] == len(body)


def test_json_error_bodies_carry_no_traceback(client):
    response = client.get("/nowhere", headers={"Accept": "application/json"}, status=404)
    assert json.loads(response.text)["error"]["status"] == 404
    assert "Traceback" not in response.text
