"""`POST /api/saga/register` in process, against a stand-in for auth's internal route."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from common.auth import service_tokens
from registration.models import Saga

pytestmark = pytest.mark.django_db

BODY = {
    "email": "Stage@Example.com",
    "password": "Plain-password-42",
    "firstName": "Stage",
    "lastName": "Test",
}


class StandInAuth(ThreadingHTTPServer):
    """Answers `POST /api/auth/pending-credentials` with `answer` and keeps what it was sent."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[dict] = []
        self.answer = (201, {"credentialRef": str(uuid.uuid4()), "expiresAt": "2030-01-01"})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        self.server.received.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization", ""),
                "body": json.loads(self.rfile.read(length)),
            }
        )
        status, body = self.server.answer
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def auth(monkeypatch, settings):
    server = StandInAuth()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AUTH_URL", server.url)
    settings.SAGA_WAIT_SECONDS = 0
    yield server
    server.shutdown()
    server.server_close()


def test_the_password_goes_to_auth_once_and_only_its_reference_is_kept_and_sent(
    auth, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as sent:
        response = APIClient().post("/api/saga/register", BODY, format="json")

    assert response.status_code == 202, response.json()
    saga = Saga.objects.get()
    assert str(saga.id) == response.json()["sagaId"]
    # One call to auth's internal route, as the gateway service, with the password.
    [call] = auth.received
    assert call["path"] == "/api/auth/pending-credentials"
    assert call["body"] == {"sagaId": str(saga.id), "password": BODY["password"]}
    scheme, token = call["authorization"].split(" ", 1)
    settings.SERVICE_NAME = "auth"  # verify as auth would
    caller = service_tokens.verify(token)
    assert (scheme, caller.name, caller.has_scope("users:create")) == ("Service", "gateway", True)
    # The saga keeps auth's reference, and nothing of the password.
    ref = auth.answer[1]["credentialRef"]
    assert str(saga.credential_ref) == ref
    row = json.dumps(list(Saga.objects.values().get().values()), default=str)
    assert BODY["password"] not in row and "password" not in row.lower()
    # The first step, as it is published after commit, carries the reference only.
    [publish] = sent
    create_user = publish.__self__.tasks[0]
    assert create_user.task == "auth.saga.create_user"
    assert create_user.kwargs == {
        "saga_id": str(saga.id),
        "email": "stage@example.com",
        "credential_ref": ref,
        "first_name": "Stage",
        "last_name": "Test",
    }


def test_an_invalid_body_never_reaches_auth(auth):
    response = APIClient().post("/api/saga/register", {**BODY, "password": "short"}, format="json")

    assert response.status_code == 400
    assert auth.received == []
    assert not Saga.objects.exists()


def test_auth_refusing_the_password_is_502_without_its_reason_and_starts_nothing(auth):
    auth.answer = (403, {"error": "Invalid service token: Signature verification failed"})

    response = APIClient().post("/api/saga/register", BODY, format="json")

    assert response.status_code == 502
    assert response.json() == {"error": "Registration is unavailable", "details": []}
    assert len(auth.received) == 1
    assert not Saga.objects.exists()


def test_auth_unreachable_is_503_and_starts_nothing():
    response = APIClient().post("/api/saga/register", BODY, format="json")  # AUTH_URL: closed

    assert response.status_code == 503
    assert response.json()["service"] == "auth"
    assert "Retry-After" in response
    assert not Saga.objects.exists()
