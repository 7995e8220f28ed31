"""The registration saga's one REST call: handing the password to auth."""

from common import upstreams
from common.auth.service_tokens import authorization_header

CREATE_USERS_SCOPE = "users:create"


class CredentialRefused(Exception):
    """Auth would not hold the password: the platform is misconfigured, the user did nothing."""


def credential_stage(*, saga_id: str, password: str) -> str:
    """Hand saga `saga_id`'s password to auth once; return the reference its steps carry.

    Raise `upstreams.UpstreamUnavailable` when auth cannot take it now.
    """
    response = upstreams.request(
        "auth",
        "POST",
        "/api/auth/pending-credentials",
        json={"sagaId": saga_id, "password": password},
        headers={
            "Authorization": authorization_header(audience="auth", scopes=[CREATE_USERS_SCOPE])
        },
    )
    if response.status_code != 201:
        raise CredentialRefused(f"auth answered {response.status_code}: {response.text[:500]}")
    return response.json()["credentialRef"]
