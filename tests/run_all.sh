#!/usr/bin/env bash
# Every suite: each project's pytest-django suite, then the cross-service suite.
# A suite that fails (or collects nothing, pytest's exit 5) fails the run, after all have run.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
for service in gateway auth video streaming billing analytics; do
  echo "=== ${service}_project"
  (cd "${service}_project" && python -m pytest -q -p no:cacheprovider "$@") || failed+=("$service")
done
echo "=== common (common/tests/)"
python -m pytest -q -p no:cacheprovider common/tests "$@" || failed+=("common")
echo "=== cross-service (tests/)"
python -m pytest -q -p no:cacheprovider tests "$@" || failed+=("cross-service")
echo "=== HTTP benchmark smoke (make run, every hot path for 2 s)"
python -m deploy.bench_http --smoke || failed+=("bench-smoke")
if ((${#failed[@]})); then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
