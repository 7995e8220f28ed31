"""Clients written for the original system keep working: a stub generated from its protos reads
Streamify's gRPC answers field by field, and docs/compat.md shows the comparison made here."""

import json
import subprocess
import sys
from datetime import datetime

import requests

from common.paths import REPO_ROOT
from common.testing.doc_tables import table_rows
from common.testing.processes import free_port, manage
from tests.compat import protos
from tests.support.full_platform import DEMO_EMAIL, DEMO_PASSWORD

COMPAT = REPO_ROOT / "docs" / "compat.md"
CLIENT = REPO_ROOT / "tests" / "compat" / "original_client.py"


def test_every_original_rpc_and_field_keeps_its_number_type_and_meaning():
    assert protos.rpcs(protos.ORIGINAL).items() <= protos.rpcs(protos.STREAMIFY).items()
    original, streamify = protos.messages(protos.ORIGINAL), protos.messages(protos.STREAMIFY)
    broken = [
        f"{name} {number}: {field} is now {now or 'missing'}"
        for name, fields in original.items()
        for number, field in fields.items()
        if not (now := streamify.get(name, {}).get(number)) or not now.reads_as(field)
    ]
    assert broken == []


def test_the_compat_page_shows_the_table_the_protos_give():
    shown = [row for row in table_rows(COMPAT, "grpc-table") if row.startswith("| `")]
    assert shown == protos.side_by_side(), "regenerate with tests.compat.protos.side_by_side()"


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_a_client_generated_from_the_original_protos_reads_every_field(make_platform):
    platform = make_platform("embedded", ["auth", "video"])
    ports = {service: free_port() for service in ("auth", "video")}
    for service, port in ports.items():
        platform.start_web(
            service, STREAMIFY_GRPC_IN_WEB="1", **{f"{service.upper()}_GRPC_PORT": str(port)}
        )
    env = platform.env()
    user_id = int(manage("auth", "ensure_demo_user", env=env).strip())
    manage("video", "seed_demo_videos", "--owner-id", str(user_id), env=env, timeout=300)
    login = requests.post(
        platform.url("auth", "/api/auth/login"),
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=30,
    )
    token = login.json()["token"]
    profile = requests.get(
        platform.url("auth", "/api/auth/profile"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    catalog = requests.get(platform.url("video", "/api/videos?limit=10"), timeout=10).json()
    rest = catalog["videos"][0]

    ran = subprocess.run(
        [
            sys.executable,
            str(CLIENT),
            f"127.0.0.1:{ports['auth']}",
            f"127.0.0.1:{ports['video']}",
            token,
            str(user_id),
            str(rest["id"]),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    read = json.loads(ran.stdout)

    names = {
        "email": profile["email"],
        "first_name": profile["firstName"],
        "last_name": profile["lastName"],
    }
    assert read["VerifyToken"] == {"valid": True, "user_id": user_id, **names, "error": ""}
    bad = read["VerifyToken(bad)"]
    assert (bad["valid"], bad["user_id"], bad["email"]) == (False, 0, "")
    assert bad["error"].startswith("Invalid token")
    user = read["GetUserProfile"]
    assert {k: user[k] for k in ("id", *names, "error")} == {"id": user_id, **names, "error": ""}
    assert _iso(user["created_at"]) == _iso(profile["createdAt"])

    for name, service in (("auth HealthCheck", "auth"), ("video HealthCheck", "video")):
        assert (read[name]["status"], read[name]["service"]) == ("ok", service)
        assert _iso(read[name]["timestamp"]).tzinfo is not None

    video = read["GetVideo"]["video"]
    assert read["GetVideo"]["error"] == ""
    assert video == {
        "id": rest["id"],
        "title": rest["title"],
        "description": rest["description"],
        "category": rest["category"],
        "duration": round(rest["duration"]),
        "price_per_minute": rest["pricePerMinute"],
        "filename": video["filename"],
        "uploaded_by": user_id,
        "created_at": video["created_at"],
    }
    assert video["filename"].endswith(".mp4") and video["duration"] > 0
    assert _iso(video["created_at"]) == _iso(rest["createdAt"])
    listed = read["ListVideos"]
    assert (listed["total"], listed["page"], listed["limit"], listed["error"]) == (
        catalog["total"], 1, 10, "",
    )  # fmt: skip
    assert [v["id"] for v in listed["videos"]] == [v["id"] for v in catalog["videos"]]
    assert listed["videos"][0] == video
