# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000

.PHONY: run dev test install install-test system-test-packages catalogs translations migrate seed bench lint lock clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed from the lock files, every package pinned and checked against its hashes, so a
# new release of anything cannot change what runs (warnings are errors in the tests); then
# the app itself, whose dependencies the lock already holds. Re-installed when they change.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(VENV)/.installed $@

# After changing dependencies in pyproject.toml, or to take newer releases within its ranges:
# resolve again (for every platform) and rewrite both lock files with hashes.
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --upgrade --quiet
lock: $(VENV)/.installed-test
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra test --extra dev -o requirements-test.lock

# Test-only tools from npm: axe-core, which tests/browser loads into the pages it checks, and
# vnu-jar, the Nu Html Checker that the tests run on the system's Java (tests/helpers.py).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Compiled message catalogs (translations/*/LC_MESSAGES/messages.mo) are build output,
# git-ignored, made from the .po files on every install.
catalogs: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

# After marking new strings: extract them, and add them to each language's catalog for
# translators (tests/test_i18n.py fails until every one is translated).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_ngettext:1,2 \
		--sort-by-file --project "Joining Forces" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete
	$(BIN)/pybabel -q compile -d translations

# System packages the tests use (Debian/Ubuntu names): Chromium for tests/browser, Java for the
# Nu Html Checker, qpdf to check PDFs, HarfBuzz's subsetter for WeasyPrint, Noto fonts for
# non-Latin names in PDFs, and where a PostgreSQL server is installed, pg_dump/pg_restore of
# its version (backup tests).
# Installed with apt-get when missing and allowed (root, or passwordless sudo); otherwise
# the missing ones are named and the run stops.
system-test-packages:
	@missing=""; \
	[ -x "$${PLEDGES_CHROMIUM:-/usr/bin/chromium}" ] || missing="$$missing chromium"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	qpdf --version >/dev/null 2>&1 || missing="$$missing qpdf"; \
	ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0' || missing="$$missing libharfbuzz-subset0"; \
	fc-list 2>/dev/null | grep -q 'Noto Sans Sinhala' || missing="$$missing fonts-noto-core"; \
	fc-list 2>/dev/null | grep -q 'Noto Sans CJK SC' || missing="$$missing fonts-noto-cjk"; \
	if [ -d /etc/postgresql ] && ! { pg_dump --version && pg_restore --version; } >/dev/null 2>&1; then \
	  missing="$$missing postgresql-client-$$(ls /etc/postgresql | head -n 1)"; fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then sudo=""; \
	  elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "Install these system packages first:$$missing"; exit 1; fi; \
	  echo "Installing system packages:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

install: $(VENV)/.installed catalogs
install-test: system-test-packages $(VENV)/.installed-test node_modules/.installed catalogs

migrate: install
	$(BIN)/pledges db upgrade

seed: migrate
	$(BIN)/pledges seed-demo --if-empty

# Served as in production, by gunicorn (gunicorn.conf.py), on this machine only. PORT is
# passed on, so links in emails, PDFs and feeds point here too (see BASE_URL in the README).
run: seed
	@echo "Serving on http://127.0.0.1:$(PORT) (emails appear in instance/outbox/)"
	PORT=$(PORT) BIND=127.0.0.1:$(PORT) WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} \
		$(BIN)/gunicorn 'pledges:create_app()'

# While changing the code: Flask's development server, which reloads on every save and
# shows tracebacks in the browser. Never for anyone but you.
dev: seed
	PORT=$(PORT) $(BIN)/pledges run --debug --host 127.0.0.1 --port $(PORT)

# PostgreSQL and Redis join in whenever they answer locally (tests/conftest.py); the last
# line names the backends that ran, and the 25 slowest tests are listed above it. The test
# files are spread over one worker per core (pytest-xdist); PYTEST_WORKERS=0 runs them in
# this one process.
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25 $(PYTEST_ARGS)

# The surge (issue 19's aims) with wrk, on SQLite and, where it answers, PostgreSQL; wrk is
# installed with apt-get when missing and allowed. Each figure is printed beside the bare
# route's ceiling measured in the same run. The other benches: see bench/README.md.
BENCH_PG ?= postgresql+psycopg://root@127.0.0.1:5432/test
bench: install-test
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq wrk; \
	  elif sudo -n true 2>/dev/null; then sudo apt-get install -y -qq wrk; \
	  else echo "Install wrk first (Debian/Ubuntu: apt install wrk)"; exit 1; fi; }
	$(BIN)/python bench/surge.py
	if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
	  $(BIN)/python bench/surge.py --database-url $(BENCH_PG); fi

# Style (the rules, and the formatting ruff format would give), and the package's shape: the
# import contracts in pyproject.toml [tool.importlinter].
lint: install-test
	$(BIN)/ruff check pledges tests bench
	$(BIN)/ruff format --check pledges tests bench
	$(BIN)/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache node_modules
