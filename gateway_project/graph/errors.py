"""Upstream answers -> GraphQL errors with `extensions.code`, decided in one place."""

from graphql import GraphQLError

from common.upstreams import UpstreamUnavailable

CODES = {
    400: "BAD_USER_INPUT",
    401: "UNAUTHENTICATED",
    402: "PAYMENT_REQUIRED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "BAD_USER_INPUT",
    429: "RATE_LIMITED",
}


def upstream_error(service: str, status: int, body: dict | None) -> GraphQLError:
    body = body if isinstance(body, dict) else {}
    message = body.get("error") or body.get("detail") or f"{service} answered {status}"
    extensions = {"code": CODES.get(status, "UPSTREAM_ERROR"), "service": service, "status": status}
    if body.get("details"):
        extensions["details"] = body["details"]
    if "balance" in body:
        extensions["balance"] = body["balance"]
    return GraphQLError(str(message), extensions=extensions)


def unavailable(exc: UpstreamUnavailable) -> GraphQLError:
    return GraphQLError(
        f"Service {exc.service} is unavailable",
        extensions={"code": "UNAVAILABLE", "service": exc.service, "retryAfter": exc.retry_after},
    )


def unauthenticated() -> GraphQLError:
    return GraphQLError(
        "Sign in first: send Authorization: Bearer <token>", extensions={"code": "UNAUTHENTICATED"}
    )


def over_budget(budget: int) -> GraphQLError:
    return GraphQLError(
        f"This document may make at most {budget} upstream calls",
        extensions={"code": "TOO_MANY_UPSTREAM_CALLS", "limit": budget},
    )
