# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
DB ?= sqlite:///ci-health.db
PORT ?= 8080

.PHONY: run test install services frontend browser-deps bench clean

$(VENV)/.installed: requirements.txt test-requirements.txt setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r test-requirements.txt -e .
	touch $@

install: $(VENV)/.installed

# d3 and NVD3, pinned by frontend/package-lock.json
frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend: frontend/node_modules/.package-lock.json

# Debian's chromium for the browser tests, and the frontend's packages
browser-deps:
	bash tools/browser-deps.sh

# The dashboard on an embedded SQLite database, with demo data the first time.
run: install frontend
	$(VENV)/bin/ci-health db upgrade --db $(DB)
	$(VENV)/bin/ci-health demo-data --db $(DB) --if-empty --days 14 --jobs 12 --runs-per-day 8
	$(VENV)/bin/ci-health analyze --db $(DB) --no-alerts
	CI_HEALTH_GERRIT_CI_SYSTEMS=$${CI_HEALTH_GERRIT_CI_SYSTEMS:-etc/ci-systems.demo.yaml} \
		$(VENV)/bin/ci-health serve --db $(DB) --port $(PORT)

# Start PostgreSQL and MariaDB if they are down (they are on every machine here).
services:
	bash tools/services.sh

# Every test; browser tests fail (never skip) when chromium or node_modules is missing.
test: install services browser-deps
	bash tools/sshd-deps.sh
	bash tools/compat-venv.sh
	CI_HEALTH_BROWSER_REQUIRED=1 $(PY) -m pytest -n 2 --durations=25 tests

bench: install services
	$(PY) bench/ingest.py --baseline --memory
	$(PY) bench/gerrit.py
	$(PY) bench/comment_parse.py

clean:
	rm -rf $(VENV) .compat-venv ci-health.db ci-health.db-* ci-health.db.truth.json
