"""Every service refuses forged, expired and alg=none tokens on its own, with no call to auth."""

import ast
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import jwt
import pytest
import requests
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.auth import keys
from common.paths import REPO_ROOT
from common.service_registry import SERVICES
from common.testing.processes import free_port, wait_for, web_process
from common.testing.tokens import service_claims, service_key_env, service_token, user_claims

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


# Service credentials: each service signs with its own key, each internal route names its
# callers. The attacker is a compromised video service: it holds video's private key only.


SAGA = "6c1f5d0e-0000-4000-8000-00000000000a"


@dataclass
class Internal:
    service: str
    method: str
    path: str
    body: dict | None
    scope: str
    caller: str
    done: int  # what the named caller gets for the same request


def internal_routes(user_id: int, wallet: int, empty_wallet: int) -> list[Internal]:
    """Every internal route of the platform, each with a request that would change something."""
    charge = {"userId": wallet, "amount": 990, "idempotencyKey": "forged:1"}
    profile = {"sagaId": SAGA, "userId": user_id, "email": "victim@example.com"}
    return [
        Internal(
            "billing", "post", "/api/billing/charge", charge, "billing.charge", "streaming", 201
        ),
        Internal(
            "billing",
            "post",
            "/api/billing/refund",
            {"idempotencyKey": "play:1"},
            "billing.charge",
            "streaming",
            200,
        ),
        Internal(
            "billing",
            "post",
            "/api/billing/account/create",
            {"userId": 999001},
            "billing.accounts",
            "gateway",
            201,
        ),
        Internal(
            "billing",
            "delete",
            f"/api/billing/account/{empty_wallet}",
            None,
            "billing.accounts",
            "gateway",
            200,
        ),
        Internal(
            "auth", "delete", f"/api/auth/users/{user_id}", None, "users:delete", "gateway", 200
        ),
        Internal(
            "auth",
            "post",
            "/api/auth/pending-credentials",
            {"sagaId": SAGA, "password": "password123"},
            "users:create",
            "gateway",
            201,
        ),
        Internal(
            "analytics",
            "post",
            "/api/analytics/internal/profiles",
            profile,
            "analytics.profiles",
            "gateway",
            201,
        ),
        Internal(
            "analytics",
            "delete",
            f"/api/analytics/internal/profiles/{user_id}?sagaId={SAGA}",
            None,
            "analytics.profiles",
            "gateway",
            200,
        ),
    ]


def call(platform, service: str, method: str, path: str, body: dict | None, token: str):
    return requests.request(
        method.upper(),
        platform.url(service, path),
        json=body,
        headers={"Authorization": f"Service {token}"},
        timeout=10,
    )


def send(platform, route: Internal, token: str) -> requests.Response:
    return call(platform, route.service, route.method, route.path, route.body, token)


def legit(route: Internal) -> str:
    """The token the route's own caller mints for it."""
    return service_token(route.caller, audience=route.service, scopes=[route.scope])


def test_a_compromised_video_service_cannot_use_any_internal_route(make_platform):
    platform = make_platform("embedded", ["auth", "billing", "analytics"])
    # The processes get this test's service keys, as production gets them: from the environment.
    platform.extra_env.update(service_key_env())
    for service in ("auth", "billing", "analytics"):
        platform.start_web(service)
    user_key = (platform.var / "secrets" / "jwt_private.pem").read_text()
    registered = requests.post(
        platform.url("auth", "/api/auth/register"),
        json={
            "email": "victim@example.com",
            "password": "password123",
            "firstName": "Vic",
            "lastName": "Tim",
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    victim = registered.json()["user"]["id"]
    wallet, empty = 777001, 777002
    viewer = {"Authorization": f"Bearer {jwt.encode(user_claims(wallet), user_key, 'RS256')}"}
    gateway = service_token("gateway", audience="billing", scopes=["billing.accounts"])
    for user_id in (wallet, empty):
        created = call(
            platform, "billing", "post", "/api/billing/account/create", {"userId": user_id}, gateway
        )
        assert created.status_code == 201, created.text
    deposit = requests.post(
        platform.url("billing", "/api/billing/deposit"), json={"amount": 1000}, headers=viewer
    )
    streaming = service_token("streaming", audience="billing", scopes=["billing.charge"])
    played = call(
        platform,
        "billing",
        "post",
        "/api/billing/charge",
        {"userId": wallet, "amount": 10, "idempotencyKey": "play:1"},
        streaming,
    )
    assert (deposit.status_code, played.status_code) == (200, 201), (deposit.text, played.text)
    video_key = keys.service_private_key("video")
    routes = internal_routes(victim, wallet, empty)

    refused = {}
    for route in routes:
        options = {"audience": route.service, "scopes": [route.scope]}
        every_scope = {**options, "scopes": [r.scope for r in routes]}
        attempts = {
            "as video": service_token("video", **options),
            "as video, every scope": service_token("video", **every_scope),
            f"as {route.caller}, video's key": service_token(
                route.caller, key=video_key, **options
            ),
            f"as {route.caller}, kid video": service_token(
                route.caller, key=video_key, kid="video", **options
            ),
        }
        for attempt, token in attempts.items():
            response = send(platform, route, token)
            refused[route.path, attempt] = (response.status_code, response.json()["error"])
    balance = requests.get(platform.url("billing", "/api/billing/balance"), headers=viewer)
    # The same requests from the named callers: each does what it says, once, so none of the
    # forged ones had done it before.
    done = {route.path: send(platform, route, legit(route)) for route in routes}

    assert {key: status for key, (status, _) in refused.items()} == dict.fromkeys(refused, 403)
    for (_, attempt), (_, error) in refused.items():
        if attempt.startswith("as video"):
            assert error == "This endpoint does not accept calls from video", (attempt, error)
        else:
            assert error.startswith("Invalid service token: "), (attempt, error)
    assert balance.json()["balance"] == 990
    assert {path: r.status_code for path, r in done.items()} == {r.path: r.done for r in routes}
    assert done["/api/billing/charge"].json()["replayed"] is False
    assert done["/api/billing/refund"].json()["refunded"] is True
    assert done["/api/billing/account/create"].json()["created"] is True
    assert done[f"/api/billing/account/{empty}"].json()["deleted"] is True
    assert done[f"/api/auth/users/{victim}"].json()["deleted"] is True
    assert done["/api/analytics/internal/profiles"].json()["analyticsCreated"] is True
    assert done[f"/api/analytics/internal/profiles/{victim}?sagaId={SAGA}"].json()["deleted"]


def hs256_keyed_with(public_pem: bytes, claims: dict) -> str:
    """Key confusion: an HMAC whose secret is the (public) verifying key."""
    head = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'streaming'})}.{_b64(claims)}"
    mac = hmac.new(public_pem, head.encode(), hashlib.sha256).digest()
    return f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_billing_refuses_every_broken_service_token_and_accepts_streaming(make_platform):
    platform = make_platform("embedded", ["billing"])
    platform.extra_env.update(service_key_env())
    platform.start_web("billing")
    user_key = (platform.var / "secrets" / "jwt_private.pem").read_text()
    streaming_public = service_key_env()["STREAMING_SERVICE_PUBLIC_KEY"].encode()
    scopes = ["billing.charge"]
    claims = service_claims("streaming", audience="billing", scopes=scopes)
    user_token = jwt.encode(user_claims(7, is_staff=True), user_key, "RS256")
    tokens = {
        "wrong audience": service_token("streaming", audience="auth", scopes=scopes),
        "expired": service_token("streaming", audience="billing", scopes=scopes, expires_in=-60),
        "HS256 keyed with streaming's public key": hs256_keyed_with(streaming_public, claims),
        "alg=none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'streaming'})}.{_b64(claims)}.",
        "unknown issuer": service_token(
            "mallory", audience="billing", scopes=scopes, key=keys.service_private_key("video")
        ),
        "user token": user_token,
    }
    body = {"userId": 31, "amount": 5, "idempotencyKey": "k:1"}

    def charge(authorization: str) -> requests.Response:
        url = platform.url("billing", "/api/billing/charge")
        return requests.post(url, json=body, headers={"Authorization": authorization}, timeout=10)

    answers = {kind: charge(f"Service {token}") for kind, token in tokens.items()}
    as_bearer = charge(f"Bearer {user_token}")
    good = charge(f"Service {service_token('streaming', audience='billing', scopes=scopes)}")

    assert {kind: r.status_code for kind, r in answers.items()} == dict.fromkeys(tokens, 403)
    assert all(r.json()["error"].startswith("Invalid service token") for r in answers.values())
    assert answers["expired"].json()["error"] == "Invalid service token: Signature has expired"
    assert as_bearer.status_code == 401
    # Streaming, with its own key and the scope, reaches the charge itself: no wallet, so 402.
    assert good.status_code == 402, good.text
    assert good.json()["error"] == "Insufficient funds"


def test_outside_dev_mode_billing_needs_its_own_key_and_trusts_only_configured_peers(
    make_platform,
):
    platform = make_platform("embedded", ["billing"])
    keys_env = service_key_env()
    production = {
        "STREAMIFY_DEV": "0",
        "BILLING_SECRET_KEY": "billing-secret-key-for-this-test-only-0123456789",
        "JWT_PUBLIC_KEY": (platform.var / "secrets" / "jwt_public.pem").read_text(),
    }
    keyless = web_process(
        "billing", free_port(), env=platform.env(**production), log_dir=platform.logs
    ).start()
    platform.track(keyless)
    wait_for(lambda: not keyless.alive(), timeout=60, what="billing without its key to exit")
    assert "BILLING_SERVICE_PRIVATE_KEY (or BILLING_SERVICE_PRIVATE_KEY_FILE) must be set" in (
        keyless.log_tail(80)
    )

    platform.start_web(
        "billing",
        **production,
        BILLING_SERVICE_PRIVATE_KEY=keys_env["BILLING_SERVICE_PRIVATE_KEY"],
        STREAMING_SERVICE_PUBLIC_KEY=keys_env["STREAMING_SERVICE_PUBLIC_KEY"],
    )

    def post(path: str, issuer: str, scope: str, body: dict) -> requests.Response:
        token = service_token(issuer, audience="billing", scopes=[scope])
        return call(platform, "billing", "post", path, body, token)

    from_gateway = post("/api/billing/account/create", "gateway", "billing.accounts", {"userId": 5})
    from_streaming = post(
        "/api/billing/charge",
        "streaming",
        "billing.charge",
        {"userId": 5, "amount": 1, "idempotencyKey": "k"},
    )

    # The gateway may create wallets, but this billing was given no gateway key: refused, and
    # the dev keys still lying under var/secrets/ are not a fallback.
    assert from_gateway.status_code == 403
    assert from_gateway.json()["error"] == "Invalid service token: unknown issuer 'gateway'"
    assert from_streaming.status_code == 402, from_streaming.text


def declared_callers() -> dict[str, set[str]]:
    """The `service_callers` of every internal route, per receiving service, from the source."""
    found: dict[str, set[str]] = {}
    for service in SERVICES:
        for path in (REPO_ROOT / f"{service}_project").rglob("*.py"):
            if {"tests", "bench", "migrations"} & set(path.parts):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Assign) and any(
                    getattr(target, "id", None) == "service_callers" for target in node.targets
                ):
                    found.setdefault(service, set()).update(ast.literal_eval(node.value))
    return found


def test_compose_gives_each_service_its_own_key_and_the_keys_of_its_callers_only():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    callers = declared_callers()
    containers = {
        name: name.split("-")[0] for name in compose["services"] if name.split("-")[0] in SERVICES
    }
    # Flower only reads the broker (deploy/flower_app.py): it holds no service's key.
    flower = compose["services"]["flower"]
    assert "secrets" not in flower
    assert not [k for k in flower["environment"] if "_SERVICE_P" in k]

    assert callers == {
        "auth": {"gateway"},
        "billing": {"gateway", "streaming"},
        "analytics": {"gateway"},
    }
    for name, service in containers.items():
        spec = compose["services"][name]
        own = f"{service.upper()}_SERVICE_PRIVATE_KEY_FILE"
        keys_given = {k for k in spec["environment"] if "_SERVICE_P" in k}
        trusted = {k for k in keys_given if k.endswith("_SERVICE_PUBLIC_KEY")}
        assert spec["secrets"] == [f"{service}_service_key"], name
        assert spec["environment"][own] == f"/run/secrets/{service}_service_key", name
        assert keys_given - trusted == {own}, name
        if name == service:  # the web process: the one that receives service tokens
            assert trusted == {f"{c.upper()}_SERVICE_PUBLIC_KEY" for c in callers.get(service, ())}
            for key in trusted:
                assert spec["environment"][key] == f"${{{key}:?set {key}}}", name
        else:
            assert trusted == set(), name
    for service in SERVICES:
        assert compose["secrets"][f"{service}_service_key"] == {
            "file": f"${{SERVICE_KEYS_DIR:?set SERVICE_KEYS_DIR}}/{service}.pem"
        }
    assert "PRIVATE KEY-----" not in (REPO_ROOT / "docker-compose.yml").read_text()
