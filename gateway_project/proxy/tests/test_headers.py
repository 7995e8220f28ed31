"""Which headers the proxy forwards (no network: pure functions over a request)."""

from django.test import RequestFactory, override_settings

from proxy.services import forwarded_headers, route_for


def test_hop_by_hop_and_connection_named_headers_are_dropped():
    request = RequestFactory().get(
        "/api/videos",
        HTTP_CONNECTION="keep-alive, X-Private",
        HTTP_X_PRIVATE="secret",
        HTTP_KEEP_ALIVE="timeout=5",
        HTTP_PROXY_AUTHORIZATION="Basic abc",
        HTTP_AUTHORIZATION="Bearer t",
        HTTP_X_FORWARDED_FOR="10.0.0.1",
        REMOTE_ADDR="192.0.2.7",
    )
    request.request_id = "rid-1"

    headers = forwarded_headers(request)

    assert "X-Private" not in headers and "Keep-Alive" not in headers
    assert "Proxy-Authorization" not in headers and "Connection" not in headers
    assert headers["Authorization"] == "Bearer t"
    assert headers["X-Forwarded-For"] == "10.0.0.1, 192.0.2.7"
    assert headers["X-Real-IP"] == "192.0.2.7"  # the peer is not a trusted proxy
    assert headers["X-Request-ID"] == "rid-1"


@override_settings(GATEWAY_TRUSTED_PROXIES=["192.0.2.0/24"])
def test_client_ip_comes_from_forwarded_for_only_behind_a_trusted_proxy():
    request = RequestFactory().get(
        "/api/videos", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.1", REMOTE_ADDR="192.0.2.7"
    )
    request.request_id = "rid-2"

    assert forwarded_headers(request)["X-Real-IP"] == "10.0.0.1"


def test_routes_match_whole_path_segments():
    assert route_for("/api/videos") == "video"
    assert route_for("/api/videos/7/thumbnail") == "video"
    assert route_for("/api/stream/url/abc") == "streaming"
    assert route_for("/api/auth/login") == "auth"
    assert route_for("/api/videosx") is None
    assert route_for("/api/saga/register") is None
