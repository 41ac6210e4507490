# One command list for developers, pre-commit and CI. The two a newcomer needs:
#   make up      run the whole stack (compose where Docker answers, else native servers + processes)
#   make check   every check: format, lint, types, import layers, contracts, all tests on real servers
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .local/tools/bin/uv)
PY := python3
SERVERS_ENV = eval "$$($(PY) scripts/servers.py env)"

.PHONY: help up down status check lint fmt test servers servers-down browser bench schemas docs

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

.local/tools/bin/uv:
	$(PY) -m venv .local/tools
	.local/tools/bin/pip install -q uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml $(wildcard */pyproject.toml services/*/pyproject.toml) | $(UV)
	$(UV) sync --frozen
	@touch $@

up: .venv/.synced  ## run the stack and print where each service listens
	$(PY) scripts/stack.py up

down:  ## stop the stack (only what these scripts started)
	$(PY) scripts/stack.py down

status:  ## where the stack listens and whether it is ready
	$(PY) scripts/servers.py status
	$(PY) scripts/stack.py status

servers:  ## start (or reuse) Kafka, PostgreSQL and FerretDB
	$(PY) scripts/servers.py up

servers-down:  ## stop Kafka, PostgreSQL and FerretDB
	$(PY) scripts/servers.py down

browser:  ## install Debian's chromium for the page tests if it is missing (apt-get, as root)
	$(PY) scripts/tools.py chromium

fmt: .venv/.synced  ## format the code
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

lint: .venv/.synced  ## format check, lint, strict types, import layers, event contracts
	$(UV) run ruff format --check .
	$(UV) run ruff check .
	$(UV) run mypy .
	PYTHONPATH=shared/example $(UV) run lint-imports
	$(UV) run python -m shared.events.schemas
	$(UV) run python scripts/asyncapi.py --check

test: .venv/.synced servers browser  ## every test, against the real servers
	$(SERVERS_ENV) && $(UV) run pytest

check: lint test  ## everything CI runs

schemas: .venv/.synced  ## rewrite the committed event schemas after a reviewed, additive change
	$(UV) run python -m shared.events.schemas --write

docs: .venv/.synced  ## regenerate each service's committed AsyncAPI document
	$(UV) run python scripts/asyncapi.py

bench: .venv/.synced servers  ## baseline figures on the real servers
	$(SERVERS_ENV) && $(UV) run python -m bench --readme README.md
