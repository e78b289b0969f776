# `make run`: set up and serve Teamsite on SQLite with demo data. `make test`: run every test.
# `make run` serves static files through WhiteNoise (--nostatic), compressed by collectstatic as
# in production. Front-end libraries (plotly.js's bundles) come from npm: package-lock.json.
PORT ?= 8000
# Links in emails, invitation links and the team URL preview start with SITE_URL: by default the
# address `make run` serves; set it when people reach the site under another name (a proxy).
SITE_URL ?= http://127.0.0.1:$(PORT)
VENV := .venv
PY := $(VENV)/bin/python
# The first Python >= 3.12 on this machine (python3.13, python3.12, python3, then pyenv's).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -r); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && command -v $$p && break; done)
DEV_ENV = DEBUG=1 SITE_URL=$(SITE_URL)

.PHONY: setup run test lint

$(VENV)/.installed: requirements.txt requirements-test.txt
	@test -n "$(PYTHON)" || { echo "Teamsite needs Python 3.12 or newer; none was found." >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# npm ci empties node_modules first, so the stamp is written after it.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Teamsite needs Node.js and npm for its front-end libraries; npm was not found." >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

run: setup
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo_data
	$(DEV_ENV) $(PY) manage.py load_demo_artifacts
	$(DEV_ENV) $(PY) manage.py load_demo_alerts
	$(DEV_ENV) $(PY) manage.py load_demo_reports
	$(DEV_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(DEV_ENV) $(PY) manage.py runserver --nostatic 127.0.0.1:$(PORT)

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
