# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PORT ?= 8000
export PORT

.PHONY: help venv db redis mail migrate seed static run dev test test-fast test-split-stats test-citus lint format bench bench-citus soak stop clean

help:
	@echo "make run     install, start PostgreSQL, Redis and the mail sink (.data/mail/), migrate, seed demo tenants; web on :$(PORT), Celery worker and beat (Procfile)"
	@echo "make dev     the same with Django's runserver: DEBUG on, autoreload (make run is production-like)"
	@echo "make test    same set-up, then the whole test suite"
	@echo "make test-fast  same set-up, then the unit and db tiers only (no servers, no browser; under a minute)"
	@echo "make test-split-stats  the whole suite with the stats database on a second cluster"
	@echo "make test-citus  build Citus if needed, start a coordinator + 2 workers, run the Citus tests"
	@echo "make lint    ruff, import-linter (layers) and mypy"
	@echo "make bench   benchmarks (figures beside baselines, bench/results.json)"
	@echo "make bench-citus  the cluster's figures beside the single node's, in one run"
	@echo "make soak    long load and fault tests"
	@echo "make migrate shared, tenant and stats migrations"
	@echo "make stop    stop the embedded PostgreSQL, Redis and mail sink"
	@echo "make clean   stop and delete .venv and .data"

venv:
	@scripts/bootstrap.sh

db:
	@scripts/pg.sh start

redis:
	@scripts/redis.sh start

# Local SMTP sink: every mail `make run` sends lands as an .eml file in .data/mail/.
mail: venv
	@scripts/mail.sh start

migrate: venv db
	$(MANAGE) migrate_schemas --shared --noinput -v 0
	$(MANAGE) migrate_schemas --tenant --noinput -v 0
	$(MANAGE) migrate_stats --noinput -v 0

seed: migrate
	$(MANAGE) seed_demo
	$(MANAGE) stats_generate --days 14 --if-empty
	$(MANAGE) stats_rollup

# Static files for whitenoise, compressed (gzip) and cacheable; finders still serve
# anything newer, so an edit shows without running this again.
static: venv
	DJANGO_SETTINGS_MODULE=saas.settings.local $(MANAGE) collectstatic --noinput -v 0

run: redis mail seed static
	@scripts/run.sh

dev: redis mail seed
	@scripts/run.sh dev

test: venv db
	@scripts/system_deps.sh chromium redis-server
	@$(MAKE) --no-print-directory lint
	$(PY) -m pytest
	@scripts/test-citus.sh --if-available

# Tiers are pytest markers assigned in tests/conftest.py (tests/support/tiers.py).
test-fast: venv db
	$(PY) -m pytest -m "unit or db"

# The Citus tier (tests/citus and the product suites on a coordinator + 2 workers, directly
# and through PgBouncer): scripts/test-citus.sh. `make test` runs it when Citus is installed
# or can be built here, and says why not otherwise.
test-citus: venv redis
	@scripts/system_deps.sh chromium pgbouncer
	@scripts/test-citus.sh

# ruff (style and bugs), import-linter (the layers in pyproject.toml), mypy (typed modules).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: redis migrate
	@scripts/system_deps.sh wrk
	$(PY) -m bench

bench-citus: redis migrate
	@scripts/citus.sh start
	$(PY) -m bench citus

soak: venv db
	$(PY) -m pytest -m soak -p no:randomly -s tests/soak

# STATS_DATABASE_URL from .data/db-stats.env (port 54330) beats the same-cluster default.
test-split-stats: venv db
	@scripts/pg.sh start-stats
	@scripts/system_deps.sh chromium redis-server
	set -a && . .data/db-stats.env && set +a && STATS_CLUSTER=separate $(PY) -m pytest

stop:
	@scripts/citus.sh stop
	@scripts/mail.sh stop
	@scripts/redis.sh stop
	@scripts/pg.sh stop
	@scripts/pg.sh stop-stats

clean: stop
	rm -rf $(VENV) .data staticfiles tests/artifacts bench/results.json
