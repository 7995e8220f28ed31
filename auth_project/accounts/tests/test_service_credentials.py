"""Service credentials as a receiving service checks them (common.auth): each service signs with
its own Ed25519 key, the token names its issuer, and each route names the callers it accepts.

The same checks against real processes: tests/test_token_checks.py."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.exceptions import ImproperlyConfigured
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from common.auth import keys, service_tokens
from common.auth.views import InternalView
from common.paths import REPO_ROOT
from common.service_registry import SERVICES
from common.testing.tokens import service_claims, service_token, user_token


class ChargeLikeView(InternalView):
    """An internal route as billing's charge declares it: one scope, one calling service."""

    service_scope = "billing.charge"
    service_callers = {"streaming"}

    def post(self, request):
        return Response({"caller": request.user.name, "scopes": sorted(request.user.scopes)})


def call(view, authorization: str | None) -> tuple[int, dict]:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = view.as_view()(APIRequestFactory().post("/x", **headers))
    response.render()
    return response.status_code, json.loads(response.content)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def signed_by_hand(header: dict, claims: dict, key: ed25519.Ed25519PrivateKey) -> str:
    """What PyJWT would refuse to produce (a header it considers invalid), signed anyway."""
    head = unsigned({"alg": "EdDSA", "typ": "JWT", **header}, claims)
    return f"{head}.{b64(key.sign(head.encode()))}"


def public_pem(service: str) -> bytes:
    return (
        keys.service_private_key(service)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def streaming(**options) -> str:
    """A token from streaming to this service (auth, in this suite), as streaming mints it."""
    options.setdefault("scopes", ["billing.charge"])
    return service_token("streaming", audience="auth", **options)


def hs256_keyed_with_streaming_public_key() -> str:
    """Key confusion: an HMAC whose secret is the (public) verifying key."""
    head = unsigned({"alg": "HS256", "typ": "JWT", "kid": "streaming"}, claims())
    mac = hmac.new(public_pem("streaming"), head.encode(), hashlib.sha256).digest()
    return f"{head}.{b64(mac)}"


def claims(**extra) -> dict:
    return service_claims("streaming", audience="auth", scopes=["billing.charge"], **extra)


def tampered_scope() -> str:
    header, _, signature = streaming(scopes=["analytics.read"]).split(".")
    return f"{header}.{b64(json.dumps(claims()).encode())}.{signature}"


def stranger_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


FORGERIES = {
    # A compromised video service: its own key, any claimed name.
    "video's key, streaming named": lambda: streaming(key=keys.service_private_key("video")),
    "video's key, kid video, iss streaming": lambda: jwt.encode(
        claims(), keys.service_private_key("video"), "EdDSA", headers={"kid": "video"}
    ),
    "a stranger's key, streaming named": lambda: streaming(key=stranger_key()),
    "unknown issuer": lambda: service_token(
        "mallory", audience="auth", scopes=["billing.charge"], key=stranger_key()
    ),
    "no kid": lambda: jwt.encode(claims(), keys.service_private_key("streaming"), "EdDSA"),
    "kid not a string": lambda: signed_by_hand(
        {"kid": ["streaming"]}, claims(), keys.service_private_key("streaming")
    ),
    "wrong audience": lambda: service_token("streaming", audience="billing", scopes=["x"]),
    "expired": lambda: streaming(expires_in=-30),
    "issued in the future": lambda: streaming(iat=int(time.time()) + 60),
    "lifetime over what any service mints": lambda: streaming(expires_in=3600),
    "alg=none": lambda: unsigned({"alg": "none", "typ": "JWT", "kid": "streaming"}, claims()) + ".",
    "HS256 keyed with the public key": hs256_keyed_with_streaming_public_key,
    "RS256 with auth's user-token key": lambda: streaming(
        key=keys.private_key(), algorithm="RS256"
    ),
    "user access token": lambda: user_token(7, is_staff=True),
    "access token type": lambda: streaming(token_type="access"),
    "sub is another service": lambda: streaming(sub="service:gateway"),
    "scope not a string": lambda: jwt.encode(
        claims(scope=["billing.charge"]),
        keys.service_private_key("streaming"),
        "EdDSA",
        headers={"kid": "streaming"},
    ),
    "scope tampered after signing": tampered_scope,
    "truncated signature": lambda: streaming()[:-8],
    "garbage": lambda: "not-a-token",
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_and_foreign_service_tokens_are_403_with_a_reason(name):
    status, body = call(ChargeLikeView, f"Service {FORGERIES[name]()}")

    assert status == 403, body
    assert body["error"].startswith("Invalid service token"), body
    assert body["details"] == []


def test_the_right_service_with_the_right_scope_is_accepted_and_named():
    assert call(ChargeLikeView, f"Service {streaming()}") == (
        200,
        {"caller": "streaming", "scopes": ["billing.charge"]},
    )


@pytest.mark.parametrize("issuer", sorted(set(SERVICES) - {"streaming"}))
def test_a_genuine_token_of_another_service_is_403_even_with_the_right_scope(issuer):
    genuine = service_token(issuer, audience="auth", scopes=["billing.charge"])

    status, body = call(ChargeLikeView, f"Service {genuine}")

    assert (status, body["error"]) == (403, f"This endpoint does not accept calls from {issuer}")


def test_the_right_service_without_the_scope_is_403():
    status, body = call(ChargeLikeView, f"Service {streaming(scopes=['billing.accounts'])}")

    assert (status, body["error"]) == (403, "The service token lacks the scope billing.charge")


def test_mint_signs_as_this_service_with_its_own_key(settings):
    token = service_tokens.mint(audience="billing", scopes=["billing.charge"])

    header = jwt.get_unverified_header(token)
    settings.SERVICE_NAME = "billing"
    caller = service_tokens.verify(token)
    assert (header["alg"], header["kid"]) == ("EdDSA", "auth")
    assert (caller.name, caller.scopes) == ("auth", frozenset({"billing.charge"}))
    jwt.decode(
        token,
        keys.service_private_key("auth").public_key(),
        algorithms=["EdDSA"],
        audience="service:billing",
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            keys.service_private_key("video").public_key(),
            algorithms=["EdDSA"],
            audience="service:billing",
        )


@pytest.mark.parametrize(
    "callers", [None, set(), "streaming", {"streaming", "billing-v2"}], ids=repr
)
def test_a_route_that_does_not_name_its_callers_properly_is_a_programming_error(callers):
    view = type("Undeclared", (ChargeLikeView,), {"service_callers": callers})

    with pytest.raises(ImproperlyConfigured, match="service_callers"):
        call(view, f"Service {streaming()}")


def test_keys_are_parsed_once_per_process_not_per_request(monkeypatch):
    call(ChargeLikeView, f"Service {streaming()}")

    def refuse(*args, **kwargs):
        raise AssertionError("a key was parsed on the request path")

    monkeypatch.setattr(serialization, "load_pem_public_key", refuse)
    monkeypatch.setattr(serialization, "load_pem_private_key", refuse)
    before = keys._service_public_key.cache_info().currsize
    for name in ("mallory", "x" * 200, "../jwt", "gateway/../video"):
        status, _ = call(ChargeLikeView, f"Service {streaming(kid=name)}")
        assert status == 403

    assert call(ChargeLikeView, f"Service {streaming()}")[0] == 200
    assert service_tokens.verify(service_tokens.mint(audience="auth", scopes=[])).name == "auth"
    # Names from token headers never reach the cache (nor the disk).
    assert keys._service_public_key.cache_info().currsize == before


@pytest.fixture
def leave_dev_mode(monkeypatch):
    """Unset STREAMIFY_DEV and forget the parsed keys; the dev keys come back afterwards."""

    def leave():
        monkeypatch.delenv("STREAMIFY_DEV")
        keys.service_private_key.cache_clear()
        keys._service_public_key.cache_clear()

    yield leave
    monkeypatch.undo()
    keys.service_private_key.cache_clear()
    keys._service_public_key.cache_clear()


def test_outside_dev_mode_no_key_is_made_up_and_an_unconfigured_peer_is_refused(leave_dev_mode):
    token = streaming()

    # The dev pairs are still on disk under var/secrets/: outside dev mode they are not used.
    leave_dev_mode()

    with pytest.raises(ImproperlyConfigured, match="AUTH_SERVICE_PRIVATE_KEY"):
        keys.service_private_key("auth")
    assert keys.service_public_key("streaming") is None
    status, body = call(ChargeLikeView, f"Service {token}")
    assert (status, body["error"]) == (403, "Invalid service token: unknown issuer 'streaming'")


def test_outside_dev_mode_keys_come_from_the_environment_or_a_file(
    leave_dev_mode, monkeypatch, tmp_path
):
    own = tmp_path / "auth.pem"
    own.write_bytes(
        keys.service_private_key("auth").private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    streaming_public = public_pem("streaming").decode()
    token, forged = streaming(), streaming(key=stranger_key())
    leave_dev_mode()
    monkeypatch.setenv("AUTH_SERVICE_PRIVATE_KEY_FILE", str(own))
    # One line in a .env file: newlines written as \n.
    monkeypatch.setenv("STREAMING_SERVICE_PUBLIC_KEY", streaming_public.replace("\n", "\\n"))

    assert call(ChargeLikeView, f"Service {token}")[0] == 200
    assert call(ChargeLikeView, f"Service {forged}")[0] == 403
    assert keys.service_public_key("video") is None
    own_token = service_tokens.mint(audience="streaming", scopes=[])
    assert (
        jwt.decode(
            own_token, open_public_key(own), algorithms=["EdDSA"], audience="service:streaming"
        )["iss"]
        == "service:auth"
    )


def open_public_key(private_pem_path) -> ed25519.Ed25519PublicKey:
    return serialization.load_pem_private_key(private_pem_path.read_bytes(), None).public_key()


def test_a_key_that_is_not_ed25519_is_a_configuration_error(leave_dev_mode, monkeypatch):
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    leave_dev_mode()
    monkeypatch.setenv("AUTH_SERVICE_PRIVATE_KEY", rsa_pem.decode())
    monkeypatch.setenv("STREAMING_SERVICE_PUBLIC_KEY", "not a key")

    with pytest.raises(ImproperlyConfigured, match="must be an Ed25519 key"):
        keys.service_private_key("auth")
    with pytest.raises(ImproperlyConfigured, match="STREAMING_SERVICE_PUBLIC_KEY is not a PEM"):
        keys.service_public_key("streaming")


GENERATE = """
from common.auth import keys
from cryptography.hazmat.primitives import serialization
print(keys.service_private_key("video").public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(), end="")
"""


def test_dev_mode_generates_each_pair_once_while_services_start_together(tmp_path):
    env = {**os.environ, "STREAMIFY_DEV": "1", "STREAMIFY_VAR_DIR": str(tmp_path)}
    env.pop("VIDEO_SERVICE_PRIVATE_KEY", None)
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", GENERATE], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE
        )
        for _ in range(4)
    ]
    printed = {starter.communicate(timeout=60)[0].decode() for starter in starters}

    secrets = tmp_path / "secrets"
    assert [starter.returncode for starter in starters] == [0, 0, 0, 0]
    assert printed == {(secrets / "service_video_public.pem").read_text()}
    assert (secrets / "service_video_private.pem").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in secrets.glob("service_*")) == [
        "service_video_private.pem",
        "service_video_public.pem",
    ]
