"""The services' REST APIs as the GraphQL resolvers see them: JSON in, JSON out, errors coded.

Every call goes through `common.http` (pooled, timed out, behind the upstream's breaker) and
carries the caller's own Bearer token, so each service applies its own rules to the caller.
"""

from common import http
from graph import errors


class Upstreams:
    """Per GraphQL request: the caller's Authorization header and a count of calls made."""

    def __init__(self, authorization: str | None):
        self.authorization = authorization
        self.calls: list[tuple[str, str]] = []

    def require_user(self) -> None:
        if not self.authorization:
            raise errors.unauthenticated()

    def call(self, service: str, method: str, path: str, *, auth: bool = True, **kwargs) -> dict:
        headers = {"Accept": "application/json"}
        if auth and self.authorization:
            headers["Authorization"] = self.authorization
        self.calls.append((service, path))
        try:
            response = http.request(service, method, path, headers=headers, **kwargs)
        except http.UpstreamUnavailable as exc:
            raise errors.unavailable(exc) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise errors.upstream_error(service, response.status_code, body)
        return body or {}
