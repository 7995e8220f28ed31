"""GraphQL through a real gateway against the real video, streaming, billing and analytics
services (plus video's gRPC server, which streaming calls)."""

import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import grpc
import pytest
import requests
from conftest import CLOSED, GatewayPlatform

from common.paths import REPO_ROOT
from common.service_registry import UPSTREAMS
from common.testing.processes import Process, free_port, manage, wait_for
from common.testing.tokens import bearer, service_token

USER = 4242
BROKE_USER = 4343


@pytest.fixture(scope="module")
def graph_platform():
    root = Path(tempfile.mkdtemp(prefix="gw-graph-"))
    with ExitStack() as stack:
        platform = GatewayPlatform(stack, root)
        grpc_port = free_port()
        platform.extra_env.update(
            {
                "VIDEO_GRPC_TARGET": f"127.0.0.1:{grpc_port}",
                "AUTH_GRPC_TARGET": CLOSED.removeprefix("http://"),
                "GATEWAY_RATE_GENERAL": "100000/m",
            }
        )
        platform.urls["auth"] = CLOSED
        platform.database("video")
        manage("video", "migrate", "--noinput", env=platform.env())
        manage("video", "seed_demo_videos", "--owner-id", "1", env=platform.env(), timeout=300)
        argv = [sys.executable, "manage.py", "run_grpc_server", "--port", str(grpc_port)]
        cwd = REPO_ROOT / "video_project"
        platform.track(
            Process("video-grpc", argv, env=platform.env(), cwd=cwd, log_dir=platform.logs).start()
        )
        grpc.channel_ready_future(grpc.insecure_channel(f"127.0.0.1:{grpc_port}")).result(60)
        platform.service("video")
        platform.service("billing")
        platform.service("analytics", STREAMIFY_ACCESS_LOG="1")
        platform.service("streaming")
        for service in UPSTREAMS:
            platform.urls.setdefault(service, CLOSED)
        platform.service("gateway")
        # Wallets as the registration saga (the gateway) creates them.
        gateway_token = service_token("gateway", audience="billing", scopes=["billing.accounts"])
        for user in (USER, BROKE_USER):
            created = requests.post(
                f"{platform.urls['billing']}/api/billing/account/create",
                json={"userId": user},
                headers={"Authorization": f"Service {gateway_token}"},
                timeout=10,
            )
            assert created.status_code == 201, created.text
        yield platform
    shutil.rmtree(root, ignore_errors=True)


def gql(platform, query: str, variables: dict | None = None, user: int | None = None) -> dict:
    headers = bearer(user) if user else {}
    response = requests.post(
        f"{platform.urls['gateway']}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=30,
    )
    assert response.status_code in (200, 400), response.text
    return response.json()


def codes(result: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def test_videos_and_video_match_the_catalog(graph_platform):
    direct = requests.get(
        f"{graph_platform.urls['video']}/api/videos?page=1&limit=10", timeout=10
    ).json()

    result = gql(
        graph_platform,
        "{ videos(page: 1, limit: 10) {"
        "  videos { id title pricePerMinute status duration } total page limit } }",
    )

    assert "errors" not in result, result
    videos = result["data"]["videos"]
    assert videos["total"] == direct["total"] >= 1
    assert [v["id"] for v in videos["videos"]] == [v["id"] for v in direct["videos"]]
    assert [v["title"] for v in videos["videos"]] == [v["title"] for v in direct["videos"]]
    first = direct["videos"][0]
    one = gql(
        graph_platform,
        "query($id: Int!) { video(id: $id) { id title category } }",
        {"id": first["id"]},
    )
    assert one["data"]["video"] == {
        "id": first["id"],
        "title": first["title"],
        "category": first["category"],
    }
    missing = gql(graph_platform, "{ video(id: 999999) { id } }")
    assert missing["data"]["video"] is None and codes(missing) == ["NOT_FOUND"]


def test_the_readme_examples_answer_from_the_services(graph_platform):
    direct = requests.get(
        f"{graph_platform.urls['video']}/api/videos?page=1&limit=10", timeout=10
    ).json()

    listing = gql(graph_platform, "{ videos(page: 1, limit: 10) { videos { id title } total } }")
    balance = gql(graph_platform, "{ userBalance { userId balance } }", user=BROKE_USER)

    assert listing == {
        "data": {
            "videos": {
                "videos": [{"id": v["id"], "title": v["title"]} for v in direct["videos"]],
                "total": direct["total"],
            }
        }
    }
    assert balance == {"data": {"userBalance": {"userId": BROKE_USER, "balance": 0}}}


def test_stats_need_a_user_and_are_batched(graph_platform):
    anonymous = gql(graph_platform, "{ platformStats { totalUsers } }")
    platform_stats = gql(
        graph_platform, "{ platformStats { totalVideos totalViews activeStreams } }", user=USER
    )
    log = graph_platform.logs / "analytics-web.log"
    before = len(log.read_text().splitlines())
    nested = gql(
        graph_platform,
        "{ videos(limit: 5) { videos { id stats { videoId totalViews revenue } } } "
        "  again: videos(limit: 5) { videos { id stats { totalViews } } } }",
        user=USER,
    )
    # A later request to analytics: once its line is written, every line of `nested` is.
    marker = "/api/analytics/cqrs/platform/stats"
    assert requests.get(graph_platform.url("analytics", marker), headers=bearer(USER)).ok

    def lines_before_marker() -> list[str] | None:
        lines = log.read_text().splitlines()[before:]
        ends = [i for i, line in enumerate(lines) if marker in line]
        return lines[: ends[0]] if ends else None

    logged = wait_for(lines_before_marker, timeout=10, what="analytics logging the marker")
    calls = [line for line in logged if "/cqrs/video" in line]
    one = gql(graph_platform, "{ videoStats(videoId: 1) { videoId totalViews } }", user=USER)

    assert codes(anonymous) == ["UNAUTHENTICATED"]
    assert "errors" not in platform_stats, platform_stats
    assert platform_stats["data"]["platformStats"]["totalViews"] == 0
    assert "errors" not in nested, nested
    items = nested["data"]["videos"]["videos"]
    assert [v["stats"]["videoId"] for v in items] == [v["id"] for v in items]
    assert one["data"]["videoStats"] == {"videoId": 1, "totalViews": 0}
    # Two lists, the same videos twice: one batched call for the stats of all of them.
    assert len(calls) == 1, calls
    assert "/cqrs/videos/stats" in calls[0], calls


def test_balance_deposit_and_payment_required(graph_platform):
    before = gql(graph_platform, "{ userBalance { userId balance } }", user=USER)["data"][
        "userBalance"
    ]

    added = gql(
        graph_platform, "mutation { addFunds(amount: 5000) { userId balance message } }", user=USER
    )
    after = gql(graph_platform, "{ userBalance { userId balance } }", user=USER)["data"][
        "userBalance"
    ]
    invalid = gql(graph_platform, "mutation { addFunds(amount: -5) { balance } }", user=USER)
    anonymous = gql(graph_platform, "mutation { addFunds(amount: 5) { balance } }")
    forged = requests.post(
        f"{graph_platform.urls['gateway']}/graphql",
        json={"query": "{ userBalance { balance } }"},
        headers={"Authorization": "Bearer not-a-token"},
        timeout=10,
    ).json()

    assert added["data"]["addFunds"]["userId"] == USER
    assert added["data"]["addFunds"]["balance"] == before["balance"] + 5000
    assert after == {"userId": USER, "balance": before["balance"] + 5000}
    assert codes(invalid) == ["BAD_USER_INPUT"]
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    assert codes(forged) == ["UNAUTHENTICATED"]


def test_start_list_and_end_a_stream(graph_platform):
    gql(graph_platform, "mutation { addFunds(amount: 1000) { balance } }", user=USER)
    video = gql(graph_platform, "{ videos(limit: 1) { videos { id title } } }")["data"]["videos"][
        "videos"
    ][0]

    started = gql(
        graph_platform,
        "mutation($v: Int!) { startStream(videoId: $v) {"
        "  sessionId streamUrl videoId video { id title } } }",
        {"v": video["id"]},
        user=USER,
    )
    session = started["data"]["startStream"]
    active = gql(
        graph_platform, "{ activeStreams { sessionId status video { title } } }", user=USER
    )
    ended = gql(
        graph_platform,
        "mutation($s: ID!) { endStream(sessionId: $s) { sessionId status } }",
        {"s": session["sessionId"]},
        user=USER,
    )
    broke = gql(
        graph_platform,
        "mutation($v: Int!) { startStream(videoId: $v) { sessionId } }",
        {"v": video["id"]},
        user=BROKE_USER,
    )
    missing = gql(
        graph_platform, "mutation { startStream(videoId: 999999) { sessionId } }", user=USER
    )

    assert "errors" not in started, started
    assert session["videoId"] == video["id"] and session["video"]["title"] == video["title"]
    assert session["sessionId"] in session["streamUrl"]
    assert {
        "sessionId": session["sessionId"],
        "status": "active",
        "video": {"title": video["title"]},
    } in active["data"]["activeStreams"]
    assert ended["data"]["endStream"]["sessionId"] == session["sessionId"]
    assert ended["data"]["endStream"]["status"] == "ended"
    assert codes(broke) == ["PAYMENT_REQUIRED"]
    assert codes(missing) == ["NOT_FOUND"]


def test_abusive_and_malformed_documents_are_refused_before_any_call(graph_platform):
    deep = "{ activeStreams { video { stats { videoId } } } }"
    nested = (
        "{ a: videos(limit: 100) { videos { id title description category duration"
        "  stats { videoId totalViews uniqueViewers revenue } } } }"
    )
    cyclic = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"

    started = time.perf_counter()
    too_complex = gql(graph_platform, nested)
    elapsed = time.perf_counter() - started
    malformed = gql(graph_platform, "{ videos(page: ) ")
    unknown = gql(graph_platform, "{ nope }")
    cycle = gql(graph_platform, cyclic)

    assert "errors" not in gql(graph_platform, deep, user=USER)  # depth 4 is allowed
    assert codes(too_complex) == ["QUERY_TOO_COMPLEX"] and elapsed < 0.5
    assert "data" not in too_complex
    assert malformed["errors"] and "Syntax Error" in malformed["errors"][0]["message"]
    assert unknown["errors"] and "Cannot query field 'nope'" in unknown["errors"][0]["message"]
    assert cycle["errors"]


def test_the_original_schema_s_queries_run_unchanged(graph_platform):
    """The original's documented examples, then one query per original type selecting exactly
    the original's fields, each compared with what the services answer over REST."""
    catalog = requests.get(f"{graph_platform.urls['video']}/api/videos?limit=10", timeout=10)
    first = catalog.json()["videos"][0]
    gql(graph_platform, "mutation { addFunds(amount: 2000) { balance } }", user=USER)

    examples = [
        gql(graph_platform, "{ videos(page: 1, limit: 5) { videos { id title } total } }"),
        gql(graph_platform, "{ userBalance { userId balance } }", user=USER),
    ]
    video = gql(
        graph_platform,
        "query($id: Int!) { video(id: $id) { id title description category duration "
        "  pricePerMinute filename uploadedBy createdAt updatedAt } }",
        {"id": first["id"]},
    )
    listing = gql(
        graph_platform,
        "query($c: String) { videos(page: 1, limit: 2, category: $c) {"
        "  videos { id } total page limit } }",
        {"c": first["category"]},
    )
    stats = gql(
        graph_platform,
        "query($id: Int!) { videoStats(videoId: $id) { videoId videoTitle views uniqueViewers "
        "  totalWatchTime averageWatchTime } }",
        {"id": first["id"]},
        user=USER,
    )
    started = gql(
        graph_platform,
        "mutation($v: Int!) { startStream(videoId: $v) {"
        "  id userId videoId startTime endTime isActive } }",
        {"v": first["id"]},
        user=USER,
    )["data"]["startStream"]
    active = gql(
        graph_platform,
        "{ activeStreams { id userId videoId startTime endTime isActive } }",
        user=USER,
    )
    ended = gql(
        graph_platform,
        f"mutation {{ endStream(sessionId: {started['id']}) {{ id isActive endTime }} }}",
        user=USER,
    )
    revenue = gql(
        graph_platform,
        "{ platformStats { totalRevenue totalTransactions averageTransactionAmount "
        "  revenueByVideo { videoId videoTitle revenue views } } }",
        user=USER,
    )

    assert examples[0]["data"]["videos"]["total"] == catalog.json()["total"]
    assert len(examples[0]["data"]["videos"]["videos"]) == min(5, catalog.json()["total"])
    assert examples[1]["data"]["userBalance"]["userId"] == USER
    assert video["data"]["video"] == {
        "id": first["id"],
        "title": first["title"],
        "description": first["description"],
        "category": first["category"],
        "duration": round(first["duration"]),
        "pricePerMinute": first["pricePerMinute"],
        "filename": first["filename"],
        "uploadedBy": 1,
        "createdAt": first["createdAt"],
        "updatedAt": first["updatedAt"],
    }
    assert first["filename"].endswith(".mp4")
    shown = listing["data"]["videos"]
    assert (shown["page"], shown["limit"]) == (1, 2) and shown["total"] >= 1
    direct = requests.get(
        f"{graph_platform.urls['analytics']}/api/analytics/cqrs/video/{first['id']}/stats",
        headers=bearer(USER),
        timeout=10,
    ).json()
    assert stats["data"]["videoStats"] == {
        "videoId": first["id"],
        "videoTitle": direct.get("title"),
        "views": direct["totalViews"],
        "uniqueViewers": direct["uniqueViewers"],
        "totalWatchTime": direct["totalWatchTime"],
        "averageWatchTime": direct["averageWatchTime"],
    }
    assert started["id"] >= 1 and started["userId"] == USER and started["videoId"] == first["id"]
    assert started["isActive"] is True and started["endTime"] is None
    assert started in active["data"]["activeStreams"]
    assert ended["data"]["endStream"]["id"] == started["id"]
    assert ended["data"]["endStream"]["isActive"] is False
    assert ended["data"]["endStream"]["endTime"] >= started["startTime"]
    figures = revenue["data"]["platformStats"]
    platform = requests.get(
        f"{graph_platform.urls['analytics']}/api/analytics/cqrs/platform/stats",
        headers=bearer(USER),
        timeout=10,
    ).json()
    assert figures["totalRevenue"] == platform["totalRevenue"]
    assert figures["totalTransactions"] == platform["totalCharges"]
    charges = platform["totalCharges"]
    assert figures["averageTransactionAmount"] == (
        round(platform["totalRevenue"] / charges, 2) if charges else 0.0
    )
    by_video = requests.get(
        f"{graph_platform.urls['analytics']}/api/analytics/revenue",
        headers=bearer(USER),
        timeout=10,
    ).json()["byVideo"]
    assert figures["revenueByVideo"] == [
        {
            "videoId": v["videoId"],
            "videoTitle": v["title"],
            "revenue": v["revenue"],
            "views": v["views"],
        }
        for v in by_video
    ]
