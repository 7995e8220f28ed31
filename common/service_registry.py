"""The one list of Streamify's services: each one's name, HTTP port, gRPC port and the public
routes the gateway forwards to it.

Settings, the gateway's routing and health checks, the process table (`make run`, compose,
Kubernetes), the deploy checks and the tests read it; a port or a route is changed here.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str
    http_port: int  # the default; `<NAME>_PORT` moves it
    grpc_port: int | None = None  # the default; `<NAME>_GRPC_PORT` moves it
    routes: tuple[str, ...] = ()  # public URL prefixes the gateway forwards, paths unchanged


REGISTRY: dict[str, Service] = {
    s.name: s
    for s in (
        Service("gateway", 3000),
        Service("auth", 3001, 50051, routes=("/api/auth/",)),
        Service("video", 3002, 50052, routes=("/api/videos",)),
        Service("streaming", 3003, routes=("/api/stream/",)),
        Service("billing", 3004, routes=("/api/billing/",)),
        Service("analytics", 3005, routes=("/api/analytics/",)),
    )
}

SERVICES = tuple(REGISTRY)
# The services the gateway fronts.
UPSTREAMS = tuple(name for name, s in REGISTRY.items() if s.routes)
DEFAULT_HTTP_PORTS = {name: s.http_port for name, s in REGISTRY.items()}
# The services that also answer gRPC, and on which port.
DEFAULT_GRPC_PORTS = {name: s.grpc_port for name, s in REGISTRY.items() if s.grpc_port}
GRPC_SERVICES = tuple(DEFAULT_GRPC_PORTS)
# URL prefix -> the service that owns it.
ROUTES = {prefix: name for name, s in REGISTRY.items() for prefix in s.routes}
