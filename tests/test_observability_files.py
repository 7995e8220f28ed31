"""deploy/observability/: the alert rules, the dashboards and Prometheus' configuration are
well-formed, current and consistent. (That every metric they read exists on a running
platform: tests/test_metrics.py.)"""

import json
import re

import yaml

from common.paths import REPO_ROOT
from common.service_registry import DEFAULT_HTTP_PORTS, SERVICES
from deploy.observability import dashboards

FOLDER = REPO_ROOT / "deploy" / "observability"
METRIC = re.compile(r"\b((?:streamify|process)_[a-z0-9_]+)\b")
ALERTS = {
    "StreamifyBreakerOpen", "StreamifyDeadLetters", "StreamifyOutboxStalled",
    "StreamifyProjectionLagging", "StreamifySagaStuck", "StreamifyQueueUnconsumed",
    "StreamifyServiceDown",
}  # fmt: skip


def alert_rules() -> list[dict]:
    document = yaml.safe_load((FOLDER / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    queries = []
    for path in sorted((FOLDER / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        queries += [target["expr"] for panel in board["panels"] for target in panel["targets"]]
    return queries


def named_metrics() -> set[str]:
    """Every metric name the alert rules and dashboards read."""
    expressions = [rule["expr"] for rule in alert_rules()] + dashboard_queries()
    return {name for expr in expressions for name in METRIC.findall(expr)}


def test_each_alert_says_what_it_watches_how_bad_it_is_and_what_to_do():
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == ALERTS
    headings = re.findall(r"^#+ (.+)$", (REPO_ROOT / "README.md").read_text(), re.MULTILINE)
    # GitHub's anchors: lower case, punctuation but hyphens dropped, spaces as hyphens.
    anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
    for rule in rules:
        # `up` is Prometheus' own: 0 for a target it could not scrape.
        assert METRIC.search(rule["expr"]) or rule["expr"] == "up == 0", rule["alert"]
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        page, anchor = rule["annotations"]["runbook_url"].split("#", 1)
        assert page == "README.md" and anchor in anchors, rule["annotations"]["runbook_url"]


def test_the_dashboards_on_disk_are_the_ones_the_generator_writes():
    on_disk = {p.name: p.read_text() for p in (FOLDER / "dashboards").glob("*.json")}
    assert on_disk == dashboards.rendered(), "rerun: python -m deploy.observability.dashboards"
    assert set(on_disk) == {"traffic.json", "events.json", "money.json", "media.json"}


def test_each_dashboard_panel_queries_prometheus_and_reads_a_streamify_metric():
    for path in (FOLDER / "dashboards").glob("*.json"):
        board = json.loads(path.read_text())
        assert board["uid"] == f"streamify-{path.stem}"
        for panel in board["panels"]:
            assert panel["targets"], (path.name, panel["title"])
            for target in panel["targets"]:
                assert METRIC.search(target["expr"]), (path.name, panel["title"])


def test_prometheus_scrapes_every_web_process_and_worker_and_loads_the_rules():
    config = yaml.safe_load((FOLDER / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert jobs == {s: [f"{s}:{DEFAULT_HTTP_PORTS[s]}", f"{s}-worker:9100"] for s in SERVICES}


def test_compose_runs_the_observability_profile_with_these_files():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana", "jaeger"):
        assert compose[name]["profiles"] == ["observability"], name
    mounted = [v.split(":")[0] for s in ("prometheus", "grafana") for v in compose[s]["volumes"]]
    for source in mounted:
        assert (REPO_ROOT / source).exists(), source
