"""The services' REST APIs as the GraphQL resolvers see them: JSON in, JSON out, errors coded.

Every call goes through `common.upstreams` (pooled, timed out, behind the upstream's breaker) and
carries the caller's own Bearer token, so each service applies its own rules to the caller.
"""

import logging
import uuid

from common import upstreams
from graph import errors

logger = logging.getLogger(__name__)


def upstream_path(template: str, *values: int | uuid.UUID) -> str:
    """`template` with each `{}` filled by an int or a UUID, the only values a caller may put
    in an upstream path: neither can spell `/`, `..`, `?` or `#`, so no argument can reach
    another route. Anything else is a programming error."""
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | uuid.UUID):
            raise TypeError(f"an upstream path takes ints and UUIDs, not {type(value).__name__}")
    return template.format(*values)


def session_name(value: str) -> int | uuid.UUID | None:
    """How `endStream(sessionId:)` names a session: its number (ASCII digits) or its UUID in
    canonical form (any case); None for anything else."""
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        name = uuid.UUID(value)
    except ValueError:
        return None
    return name if str(name) == value.lower() else None


class Upstreams:
    """Per GraphQL request: the caller's Authorization header and the calls made.

    `budget` is the document's checked worst case (`graph.validation`); a call beyond it is
    refused, so a document never makes more calls than it was allowed, even if that count
    were ever wrong.
    """

    def __init__(self, authorization: str | None, *, budget: int):
        self.authorization = authorization
        self.budget = budget
        self.calls: list[tuple[str, str]] = []

    def require_user(self) -> None:
        if not self.authorization:
            raise errors.unauthenticated()

    def call(self, service: str, method: str, path: str, *, auth: bool = True, **kwargs) -> dict:
        if len(self.calls) >= self.budget:
            logger.error(
                "GraphQL document went past its checked cost of %d upstream calls at %s %s",
                self.budget,
                service,
                path,
            )
            raise errors.over_budget(self.budget)
        headers = {"Accept": "application/json"}
        if auth and self.authorization:
            headers["Authorization"] = self.authorization
        self.calls.append((service, path))
        try:
            response = upstreams.request(service, method, path, headers=headers, **kwargs)
        except upstreams.UpstreamUnavailable as exc:
            raise errors.unavailable(exc) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise errors.upstream_error(service, response.status_code, body)
        return body or {}
