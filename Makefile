# The two commands a user needs: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON ?= python3
SERVICES := scripts/services.sh

.PHONY: help install venv demo test lint unit integration services-up services-down \
        services-status bench proto clean chromium

help:
	@echo "make demo            everything in one process on a local Prometheus (Ctrl-C stops)"
	@echo "make test            install everything, start the servers, lint, run every test, stop"
	@echo "make services-up     start Prometheus, node-exporter, MariaDB and Kafka on loopback"
	@echo "make services-down   stop what services-up started"
	@echo "make bench           run the benchmarks (bench/RESULTS.md)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	bash scripts/demo.sh

proto: venv
	$(BIN)/python scripts/generate_proto.py

install: venv
	$(SERVICES) install

# Debian's chromium, driven headless by the console's browser tests (tests/browser).
chromium:
	@command -v chromium >/dev/null || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }

services-up: install
	$(SERVICES) up

services-down:
	$(SERVICES) down

services-status:
	@$(SERVICES) status

lint: venv
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: venv
	$(BIN)/pytest tests/unit -q

# Servers are started first and stopped however the run ends.
test: install chromium
	@trap '$(SERVICES) down' EXIT; \
	$(SERVICES) up && \
	eval "$$($(SERVICES) env)" && \
	$(MAKE) --no-print-directory lint && \
	$(BIN)/pytest tests -q -p no:cacheprovider --timeout=600 --durations=25

bench: services-up
	eval "$$($(SERVICES) env)" && $(BIN)/python bench/etl_cycle.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
