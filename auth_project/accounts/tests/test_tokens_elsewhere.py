"""Tokens from auth as any *other* service sees them: common.auth classes, public key only,
no database and no network. Forged, expired, alg=none and malformed tokens are refused."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.tests.factories import make_user
from accounts.tokens import token_pair_for
from common.auth import keys, service_tokens
from common.auth.authentication import UserTokenAuthentication
from common.auth.views import InternalView
from common.testing.tokens import service_header, user_claims


class OtherServiceView(APIView):
    """What billing, video, ... mount: the shared class and the default permission."""

    authentication_classes = [UserTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"userId": request.user.id, "isStaff": request.user.is_staff})


class InternalView(InternalView):
    service_scope = "wallets:create"
    service_callers = {"streaming"}

    def get(self, request):
        return Response({"caller": request.user.name})


def call(view, authorization: str | None):
    factory = APIRequestFactory()
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = view.as_view()(factory.get("/x", **headers))
    response.render()
    return response.status_code, json.loads(response.content)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


@pytest.fixture
def verifier_only(settings):
    """Like any service but auth: no signing key in its settings."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": ""}


@pytest.fixture
def issued(db):
    """A real access token as auth's login issues it, minted before the verifier-only switch."""
    return token_pair_for(make_user()).access


def test_token_issued_by_auth_is_accepted_locally_without_queries(
    issued, verifier_only, django_assert_num_queries
):
    user_id = jwt.decode(issued, options={"verify_signature": False})["user_id"]

    with django_assert_num_queries(0):
        status, body = call(OtherServiceView, f"Bearer {issued}")

    assert status == 200
    assert body == {"userId": user_id, "isStaff": False}


def test_no_token_is_401(verifier_only):
    status, body = call(OtherServiceView, None)

    assert status == 401
    assert set(body) == {"error", "details"}


def _other_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _hs256_with_public_key(claims: dict) -> str:
    """The classic key-confusion forgery: HMAC keyed with the (public) RSA verifying key."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(keys.public_key().encode(), f"{header}.{body}".encode(), hashlib.sha256)
    return f"{header}.{body}.{b64(mac.digest())}"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"], claims["is_staff"] = 1, True
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


FORGERIES = {
    "alg_none": lambda: forge({"alg": "none", "typ": "JWT"}, user_claims(7, is_staff=True)),
    "wrong_key": lambda: jwt.encode(user_claims(7), _other_key_pem(), algorithm="RS256"),
    "hs256_key_confusion": lambda: _hs256_with_public_key(user_claims(7, is_staff=True)),
    "expired": lambda: jwt.encode(user_claims(7, expires_in=-30), keys.private_key(), "RS256"),
    "wrong_issuer": lambda: jwt.encode(
        {**user_claims(7), "iss": "evil"}, keys.private_key(), "RS256"
    ),
    "wrong_audience": lambda: jwt.encode(
        {**user_claims(7), "aud": "elsewhere"}, keys.private_key(), "RS256"
    ),
    "no_audience": lambda: jwt.encode(
        {k: v for k, v in user_claims(7).items() if k != "aud"}, keys.private_key(), "RS256"
    ),
    "refresh_as_access": lambda: jwt.encode(
        {**user_claims(7), "token_type": "refresh"}, keys.private_key(), "RS256"
    ),
    "service_token_as_bearer": lambda: service_tokens.mint(audience="billing", scopes=["x"]),
    "garbage": lambda: "not-a-token",
    "three_dots": lambda: "a.b.c",
    "truncated_signature": lambda: jwt.encode(user_claims(7), keys.private_key(), "RS256")[:-10],
    "future_iat_expired": lambda: jwt.encode(
        {**user_claims(7), "exp": int(time.time()) - 1}, keys.private_key(), "RS256"
    ),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_and_broken_tokens_are_403_with_a_reason(name, verifier_only):
    status, body = call(OtherServiceView, f"Bearer {FORGERIES[name]()}")

    assert status == 403, body
    assert body["error"].startswith("Invalid token"), body
    assert body["details"] == []


def test_tampered_payload_of_a_real_token_is_refused(issued, verifier_only):
    status, body = call(OtherServiceView, f"Bearer {_tampered(issued)}")

    assert status == 403
    assert "Invalid token" in body["error"]


def test_expired_message_says_expired(verifier_only):
    token = jwt.encode(user_claims(7, expires_in=-30), keys.private_key(), "RS256")

    _, body = call(OtherServiceView, f"Bearer {token}")

    assert "expired" in body["error"].lower()


def test_internal_endpoint_refuses_user_tokens_and_accepts_service_tokens(issued, settings):
    settings.SERVICE_NAME = "billing"

    def as_service(issuer: str, scopes: list[str]) -> str:
        return service_header(issuer, audience="billing", scopes=scopes)["Authorization"]

    anonymous = call(InternalView, None)
    user_bearer = call(InternalView, f"Bearer {issued}")
    user_as_service = call(InternalView, f"Service {issued}")
    wrong_scope = call(InternalView, as_service("streaming", ["other"]))
    wrong_caller = call(InternalView, as_service("video", ["wallets:create"]))
    good = call(InternalView, as_service("streaming", ["wallets:create"]))

    assert anonymous[0] == 401
    assert user_bearer[0] == 401
    assert user_as_service[0] == 403
    assert wrong_scope == (
        403,
        {"error": "The service token lacks the scope wallets:create", "details": []},
    )
    assert wrong_caller == (
        403,
        {"error": "This endpoint does not accept calls from video", "details": []},
    )
    assert good == (200, {"caller": "streaming"})
