"""Conditional GETs: the ETags a client says it already holds (If-None-Match)."""


def client_holds(request, etag: str | None) -> bool:
    """True when `etag` is among the request's If-None-Match tags (weak or strong)."""
    if not etag:
        return False
    header = request.headers.get("If-None-Match", "")
    return etag in {tag.strip().removeprefix("W/") for tag in header.split(",")} or header == "*"
