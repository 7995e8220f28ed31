"""Figures for the closing note (run explicitly; a few seconds per figure):

    cd gateway_project && ../.venv/bin/pytest -q -s bench/gateway_costs.py

Proxied GET vs the same GET sent straight to the video service (same run), GraphQL `videos`,
and registration sagas. Load: CONCURRENCY client threads, each with its own keep-alive session.
For the sagas it also shows where their time goes: each step from sent to answered (the saga
log's own timestamps) and the CPU each process of the platform spent per saga.
"""

import statistics
import threading
import time
import uuid

import psycopg2
import requests
from graph.tests.test_graphql_live import graph_platform  # noqa: F401 - fixture
from registration.tests.test_saga_live import saga_platform  # noqa: F401 - fixture

from common.testing.processes import tree_cpu_seconds

CONCURRENCY = 8
SECONDS = 4.0


def load(send, *, seconds: float = SECONDS, concurrency: int = CONCURRENCY) -> dict:
    latencies: list[float] = []
    errors: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client():
        session = requests.Session()
        mine, bad = [], []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                ok = send(session)
            except requests.RequestException:
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                bad.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
    }


def step_timings(database: str, since: float) -> dict:
    """p50 in ms of each forward step from sent to answered, and of whole sagas."""
    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT st.name, extract(epoch FROM st.finished_at - st.sent_at)"
            " FROM registration_sagastep st JOIN registration_saga s ON s.id = st.saga_id"
            " WHERE s.created_at >= to_timestamp(%s) AND st.finished_at IS NOT NULL"
            " UNION ALL SELECT 'saga', extract(epoch FROM finished_at - created_at)"
            " FROM registration_saga WHERE created_at >= to_timestamp(%s)"
            " AND finished_at IS NOT NULL",
            (since, since),
        )
        rows = cursor.fetchall()
    found: dict[str, list[float]] = {}
    for name, seconds in rows:
        found.setdefault(name, []).append(float(seconds))
    return {name: round(statistics.median(v) * 1000, 1) for name, v in found.items()}


def test_proxy_cost_and_graphql_throughput(graph_platform):  # noqa: F811
    gateway, video = graph_platform.urls["gateway"], graph_platform.urls["video"]
    path = "/api/videos?page=1&limit=10"

    def get(base):
        return lambda s: s.get(f"{base}{path}", timeout=10).status_code == 200

    def graphql(s):
        query = "{ videos(page: 1, limit: 10) { videos { id title pricePerMinute } total } }"
        response = s.post(f"{gateway}/graphql", json={"query": query}, timeout=10)
        return response.status_code == 200 and "errors" not in response.json()

    load(get(gateway), seconds=1)  # warm both paths and the connection pools
    direct = load(get(video))
    proxied = load(get(gateway))
    graph = load(graphql)

    print(f"\nGET {path} direct to video : {direct}")
    print(f"GET {path} through gateway : {proxied}")
    print(f"gateway cost: rps ratio {proxied['rps'] / direct['rps']:.2f}, "
          f"p99 +{proxied['p99_ms'] - direct['p99_ms']:.1f} ms")  # fmt: skip
    print(f"GraphQL videos query        : {graph}")
    assert direct["errors"] == proxied["errors"] == graph["errors"] == 0


def test_saga_throughput_and_latency(saga_platform):  # noqa: F811
    gateway = saga_platform.urls["gateway"]

    def register(s):
        body = {
            "email": f"bench-{uuid.uuid4().hex}@example.com",
            "password": "password123",
            "firstName": "Bench",
            "lastName": "User",
        }
        return s.post(f"{gateway}/api/saga/register", json=body, timeout=60).status_code == 201

    load(register, seconds=1, concurrency=4)  # warm every process's connections
    processes = dict(saga_platform.processes)
    before = {name: tree_cpu_seconds(process.pid) for name, process in processes.items()}
    since = time.time()
    sagas = load(register, seconds=8, concurrency=4)
    spent = {name: tree_cpu_seconds(p.pid) - before[name] for name, p in processes.items()}

    print(f"\nregistration sagas (4 clients): {sagas}")
    print(
        f"p50 ms, sent to answered: {step_timings(saga_platform.database_urls['gateway'], since)}"
    )
    per_saga = {n: round(s / sagas["requests"] * 1000, 1) for n, s in spent.items() if s}
    print(f"CPU ms per saga: {dict(sorted(per_saga.items(), key=lambda kv: -kv[1]))}")
    assert sagas["errors"] == 0
