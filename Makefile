# Quick start: `make run` serves the kiosk with demo content; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=
# The tests without a browser run on every core (pytest-xdist); the browser tests (marked
# e2e: they time servers and count their requests), one at a time after them.
TEST_WORKERS ?= 2

.PHONY: run test bench soak translations messages chromium redis clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "linli needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.dev-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.run-deps

translations: | $(BIN)/python
	@test -x $(BIN)/pybabel || $(MAKE) $(VENV)/.run-deps
	$(BIN)/pybabel compile --domain messages --directory translations --statistics 2>&1 | grep -v '^$$' || true
	@test -f translations/zh_Hans/LC_MESSAGES/messages.mo && test -f translations/en/LC_MESSAGES/messages.mo

run: $(VENV)/.run-deps translations
	$(BIN)/flask --app wsgi init
	@echo ""
	@echo "  Kiosk:          http://127.0.0.1:$(PORT)/"
	@echo "  Staff console:  http://127.0.0.1:$(PORT)/staff/"
	@echo ""
	LINLI_BIND=127.0.0.1:$(PORT) $(BIN)/gunicorn --config python:app.gunicorn_conf wsgi:app

test: $(VENV)/.dev-deps translations chromium redis
	$(BIN)/ruff check .
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

# Benchmarks print figures; they assert nothing (the machines are noisy). The in-process
# ones time the views; served.py serves the app with gunicorn and loads it with wrk and
# Chromium (it fails on any unexpected answer). Needs wrk: Debian's package.
bench: $(VENV)/.dev-deps translations chromium
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's wrk for the benchmarks…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "make bench needs wrk: run 'sudo apt-get install wrk'."; exit 1; \
	  fi; }
	$(BIN)/python benchmarks/wall.py 2>&1 | grep -v '^INFO'
	$(BIN)/python benchmarks/classes.py 2>&1 | grep -v '^INFO'
	$(BIN)/python benchmarks/experts.py 2>&1 | grep -v '^INFO'
	$(BIN)/python benchmarks/pages.py 2>&1 | grep -v '^INFO'
	$(BIN)/python benchmarks/served.py
	$(BIN)/python benchmarks/phone_rush.py
	$(BIN)/python benchmarks/communities.py

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used),
# with Chinese fonts, and local voices (speech-dispatcher, espeak-ng) for read-aloud;
# printed pages are read back from their PDF with poppler's pdftotext.
KIOSK_PACKAGES := chromium fonts-noto-cjk speech-dispatcher espeak-ng poppler-utils
chromium:
	@{ command -v chromium && command -v speech-dispatcher && command -v espeak-ng && command -v pdftotext \
	  && fc-list | grep -q "Noto Sans CJK"; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing $(KIOSK_PACKAGES) for the browser tests…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(KIOSK_PACKAGES) >/dev/null; \
	  else \
	    echo "The browser tests need: sudo apt-get install $(KIOSK_PACKAGES)"; exit 1; \
	  fi; }

# The rate limiter's Redis backend is tested against a real Redis on 127.0.0.1:6379.
redis:
	@$(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 6379), 1).close()' 2>/dev/null || { \
	  if command -v redis-server >/dev/null 2>&1; then \
	    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; sleep 1; \
	  elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's redis-server for the tests…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; sleep 1; \
	  else \
	    echo "The tests need Redis on 127.0.0.1:6379: run 'sudo apt-get install redis-server'."; exit 1; \
	  fi; }

# Durability under load: ~30 clients for SOAK_SECONDS while gunicorn workers are killed
# and the server restarted once; then every acknowledged write must be in the database.
# Fails (exit 1) if a check fails. SQLite; with DATABASE_URL, a private PostgreSQL database.
SOAK_SECONDS ?= 120
soak: $(VENV)/.run-deps translations
	$(BIN)/python benchmarks/soak.py --seconds $(SOAK_SECONDS)

# After changing user-visible text: extract it and merge it into both catalogs.
messages: $(VENV)/.dev-deps
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output \
	  --project linli -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) translations/*/LC_MESSAGES/*.mo
