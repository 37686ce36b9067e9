# Two commands on a fresh machine: `make run` (the app with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm
SERVICES_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-services browser-deps lint format messages check-deploy bench bench-smoke loadtest outage-test clean audit fuzz

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Funnel CRM is starting at http://127.0.0.1:$(PORT)/   (Ctrl-C stops the web app and the worker)"
	@echo ""
	PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: $(BIN)/.installed browser-deps
	$(BIN)/pytest

# The same suite on PostgreSQL, plus the tests that need Redis and a real Celery worker.
test-services: $(BIN)/.installed browser-deps
	DATABASE_URL=$(SERVICES_DATABASE_URL) CELERY_BROKER_URL=$(SERVICES_BROKER_URL) \
		$(BIN)/pytest -m "services or not services"

browser-deps:
	@bash scripts/ensure-chromium.sh

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(BIN)/.installed
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

check-deploy: $(BIN)/.installed
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))") \
		ALLOWED_HOSTS=crm.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm test-artifacts

# Known vulnerabilities in the pinned requirements (needs PyPI's vulnerability data).
audit: $(BIN)/.installed
	$(BIN)/pip-audit -r requirements.txt --progress-spinner off

# A larger schema fuzz than the one in `make test`.
fuzz: $(BIN)/.installed
	FUZZ_EXAMPLES=100 $(BIN)/pytest tests/fuzz -p no:randomly

# Benchmarks on PostgreSQL (crm_bench, crm_bench_100k): the datasets are built on the first run, then reused.
bench: $(BIN)/.installed
	$(BIN)/python -m bench.run --leads 1000000 --compare-leads 100000 --repeat 7

# The same harness at 10,000 leads, one run each (CI): misses are printed, only a broken harness fails.
bench-smoke: $(BIN)/.installed
	$(BIN)/python -m bench.run --smoke

# Web-to-lead under load: 200 clients for 60 s against gunicorn and PostgreSQL; fails on a lost or twin lead.
loadtest: $(BIN)/.installed
	$(BIN)/python scripts/intake_load.py --clients 200 --seconds 60

# Redis stopped for 30 s while leads arrive: every accepted lead stored, all scored within 2 minutes after.
# It stops and restarts the local Redis, so do not run it beside other work that needs Redis.
outage-test: $(BIN)/.installed
	cd scripts && ../$(BIN)/python broker_outage.py
