"""Every service refuses forged, expired and alg=none tokens on its own, with no call to auth."""

import base64
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.env import SERVICES
from common.testing.tokens import user_claims

# One route per service that needs a signed-in user (the gateway forwards to auth's).
PROTECTED = {
    "gateway": "/api/auth/verify",
    "auth": "/api/auth/verify",
    "video": "/api/videos",
    "streaming": "/api/stream/sessions/active",
    "billing": "/api/billing/balance",
    "analytics": "/api/analytics/user",
}
METHOD = {"auth": "post", "gateway": "post", "video": "post"}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens() -> dict[str, str]:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    claims = user_claims(7, is_staff=True)
    return {
        "alg=none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "foreign key": jwt.encode(claims, stranger_pem, algorithm="RS256"),
        "expired": jwt.encode(
            {**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
            stranger_pem,
            algorithm="RS256",
        ),
        "malformed": "not.a.jwt",
    }


def expired_but_genuine(platform) -> str:
    key = (platform.var / "secrets" / "jwt_private.pem").read_text()
    now = int(time.time())
    return jwt.encode({**user_claims(7), "iat": now - 7200, "exp": now - 3600}, key, "RS256")


def test_every_service_refuses_bad_tokens_locally(make_platform):
    platform = make_platform("embedded", list(SERVICES))
    for service in SERVICES:
        if service != "gateway":
            platform.start_web(service)
    platform.start_web("gateway")
    tokens = forged_tokens()
    tokens["expired (genuine key)"] = expired_but_genuine(platform)

    for service in SERVICES:
        call = getattr(requests, METHOD.get(service, "get"))
        url = platform.url(service, PROTECTED[service])
        anonymous = call(url, timeout=10)
        assert anonymous.status_code == 401, (service, anonymous.text)
        for kind, token in tokens.items():
            response = call(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert response.status_code == 403, (service, kind, response.status_code, response.text)
            body = response.json()
            assert body["error"].startswith("Invalid token"), (service, kind, body)


@pytest.mark.parametrize("service", ["auth", "billing"])
def test_user_token_never_passes_as_service_credentials(make_platform, service):
    platform = make_platform("embedded", [service])
    platform.start_web(service)
    key = (platform.var / "secrets" / "jwt_private.pem").read_text()
    user_token = jwt.encode(user_claims(7, is_staff=True), key, "RS256")
    path = {"auth": "/api/auth/users/7", "billing": "/api/billing/account/7"}[service]

    for header in (f"Bearer {user_token}", f"Service {user_token}"):
        response = requests.delete(platform.url(service, path), headers={"Authorization": header})
        assert response.status_code in (401, 403), (header[:10], response.text)
        assert "error" in response.json()
