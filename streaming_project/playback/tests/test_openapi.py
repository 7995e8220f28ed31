"""The published schema names every playback route, its answers and the credentials."""

from common.testing.openapi import ERROR, operations, published_schema

UNSIGNED = "/api/stream/url/{session_id}"
MP4 = "/api/stream/url/{session_id}/{token}/video.mp4"
HLS = "/api/stream/url/{session_id}/{token}/hls/{name}"


def test_every_route_is_described_anonymously():
    schema = published_schema()

    assert operations(schema) == {
        "/api/stream/start/{video_id}": {"post"},
        UNSIGNED: {"get"},
        MP4: {"get"},
        HLS: {"get"},
        "/api/stream/heartbeat/{session_id}": {"put"},
        "/api/stream/end/{session_id}": {"post"},
        "/api/stream/sessions/active": {"get"},
    }


def test_commands_take_no_body_and_describe_their_refusals():
    schema = published_schema()
    start = schema["paths"]["/api/stream/start/{video_id}"]["post"]
    heartbeat = schema["paths"]["/api/stream/heartbeat/{session_id}"]["put"]
    end = schema["paths"]["/api/stream/end/{session_id}"]["post"]

    assert "requestBody" not in start and "requestBody" not in end
    assert set(start["responses"]) == {"200", "401", "402", "403", "404", "409", "502", "503"}
    assert set(heartbeat["responses"]) == {"200", "401", "402", "403", "404", "410", "502", "503"}
    payment = schema["components"]["schemas"]["PaymentRequired"]
    assert payment["allOf"][0]["$ref"] == ERROR
    assert set(payment["allOf"][1]["properties"]) == {"balance", "sessionEnded"}
    assert "Retry-After" in start["responses"]["503"]["headers"]


def test_media_routes_serve_paid_bytes_by_range_at_signed_urls_without_a_token():
    schema = published_schema()
    paths = schema["paths"]
    mp4, hls, unsigned = paths[MP4]["get"], paths[HLS]["get"], paths[UNSIGNED]["get"]

    assert {"Range"} <= {p["name"] for p in mp4["parameters"] if p["in"] == "header"}
    assert set(mp4["responses"]["200"]["content"]) == {"video/mp4"}
    assert set(mp4["responses"]["206"]["content"]) == {"video/mp4"}
    assert "Content-Range" in mp4["responses"]["206"]["headers"]
    assert "application/vnd.apple.mpegurl" in hls["responses"]["200"]["content"]
    assert {"400", "402", "403", "404", "410", "416"} <= set(mp4["responses"])
    assert {"402", "403", "410"} <= set(hls["responses"])
    assert set(unsigned["responses"]) == {"403"}
    not_paid = schema["components"]["schemas"]["NotPaidYet"]
    assert set(not_paid["allOf"][1]["properties"]) == {"paidSeconds", "edgeSeconds", "edgeByte"}
    assert mp4.get("security", [{}]) == [{}]


def test_the_bearer_scheme_is_published():
    schema = published_schema()

    assert schema["components"]["securitySchemes"]["userToken"]["scheme"] == "bearer"
    assert schema["paths"]["/api/stream/sessions/active"]["get"]["security"] == [{"userToken": []}]
