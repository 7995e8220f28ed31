# Two commands for a new user: `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

export STREAMIFY_DEV ?= 1
export PATH := $(BIN):$(PATH)

.PHONY: install protos run ctl prepare demo test lint bench bench-http screenshots clean

PROTOS_STAMP := build/protos/.generated

install: $(STAMP) $(PROTOS_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $@

# The gRPC modules of protos/ (build/protos, outside git), generated again when a .proto changes.
$(PROTOS_STAMP): $(STAMP) $(wildcard protos/*.proto)
	$(BIN)/python -m common.rpc.protos
	@touch $@

## Generate every gRPC module from protos/ again, whatever their age.
protos: install
	python -m common.rpc.protos --force

## Migrate every service's database, declare the broker topology, create the dev superuser
## (embedded mode): the six services side by side.
prepare: install
	@python -m deploy.prepare

## Embedded mode only: the demo viewer and a few generated sample videos, so the catalog is not empty.
demo: prepare
	@if [ "$$STREAMIFY_DEV" = 1 ]; then \
	  owner=$$(cd auth_project && python manage.py ensure_demo_user) \
	  && (cd video_project && python manage.py seed_demo_videos --owner-id "$$owner"); \
	fi

run: demo
	@python -m deploy.supervise

## One process of a running `make run`: make ctl cmd="stop billing" (status, start, restart, ...).
ctl:
	@python -m deploy.supervise ctl $(cmd)

test: install
	@bash tests/run_all.sh

lint: install
	ruff check .
	ruff format --check .
	python -m pytest -q -p no:cacheprovider tests/test_migrations.py

## Figures (minutes, not seconds; PostgreSQL and RabbitMQ where the bench needs them).
## Each script takes options for bigger runs, e.g. analytics' --sizes 100000,1000000.
bench: install
	python -m tests.bench.events
	cd auth_project && python -m pytest -q -s -p no:cacheprovider bench/logins_and_tokens.py
	cd video_project && python bench/upload_and_processing.py
	cd streaming_project && python bench/playback.py
	cd analytics_project && python bench/projections.py
	cd gateway_project && python -m pytest -q -s -p no:cacheprovider bench/gateway_costs.py

## The hot paths under wrk, embedded and on PostgreSQL + RabbitMQ + Redis, next to the same-run
## ceiling; writes docs/benchmarks.md (about 15 minutes). Installs Debian's wrk if missing.
bench-http: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
	python -m deploy.bench_http

## The README's screenshots (docs/screenshots/), taken by the browser tests in Debian's chromium
## against the whole platform (PostgreSQL and RabbitMQ, as the tests use them).
screenshots: install
	@command -v chromium >/dev/null || apt-get install -y -q chromium >/dev/null
	STREAMIFY_REQUIRE_BROWSER=1 python -m pytest -q -p no:cacheprovider tests/browser
	cp var/screenshots/catalog.png var/screenshots/player.png var/screenshots/insights.png docs/screenshots/

clean:
	rm -rf var
