# Two entry points: `make run` (service on the demo agent) and `make test` (the test suite).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ORACLE := .venv-oracle
BENCH_LIGHTSPEED := .venv-bench-lightspeed

.PHONY: run test test-fast lint lock lock-check docs oracle clients plugins web-deps e2e clean bench bench-quick bench-venv fault-matrix

# The locked versions (requirements/lock.txt: runtime, otel, test and docs), then the project
# itself without dependencies; rebuilt when the lock (or the project's metadata) changes.
LOCK := requirements/lock.txt
$(STAMP): setup.cfg pyproject.toml $(LOCK)
	@test -x $(PY) || { PYBIN=$$(scripts/find-python) && $$PYBIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

run: $(STAMP)
	$(PY) -m service $(ARGS)

test: $(STAMP) oracle clients plugins web-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# `make lock` writes the lock from setup.cfg, keeping the pins it has where they still fit
# (`make lock LOCK_ARGS=--upgrade` moves them all); `make lock-check` fails when that would
# change it. Both ask PyPI; tests/deploy/test_lock.py checks offline that every requirement
# of setup.cfg is pinned in its range.
LOCK_COMPILE = $(VENV)/bin/uv pip compile setup.cfg --extra otel --extra test --extra docs \
	--universal --python-version 3.12 --custom-compile-command 'make lock' --quiet
lock: $(STAMP)
	$(LOCK_COMPILE) $(LOCK_ARGS) -o $(LOCK)

lock-check: $(STAMP)
	@fresh=$$(mktemp) && cp $(LOCK) $$fresh && $(LOCK_COMPILE) -o $$fresh \
		&& diff -u $(LOCK) $$fresh; status=$$?; rm -f $$fresh; \
		[ $$status -eq 0 ] || { echo "$(LOCK) is not what setup.cfg resolves to: make lock" >&2; exit 1; }

# The suite with Python alone (no Node, Chromium, oracle venvs or redis-server): every test but
# those marked node, browser, oracle or redis (setup.cfg's markers), and e2e as always.
FAST_MARKERS := not e2e and not oracle and not node and not browser and not redis
test-fast: $(STAMP) plugins
	$(PY) -m pytest -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

# mypy --strict (service, formatters and tests: setup.cfg [mypy]), ruff, and the layering
# (import-linter contracts in setup.cfg [importlinter]).
lint: $(STAMP)
	$(PY) -m mypy
	$(PY) -m ruff check service formatters tests fakes
	$(PY) -m ruff format --check service formatters tests fakes bench scripts
	$(VENV)/bin/lint-imports

# The documentation site (mkdocs.yml, docs/): built strictly, offline, into site/ (git-ignored).
# mkdocs-material (the docs extra) is in the lock, so in .venv.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The differential tests' side venvs: lightspeed-stack 0.1.3, and each later release in
# ORACLE_RELEASES (tests/oracle/make_release_venv.sh; 0.4.2 and 0.7.1 run as whole apps,
# tests/oracle/lightspeed_app.py, 0.7.1 also as the bench peer), built once and cached.
ORACLE_RELEASES := 0.2.0 0.3.0 0.4.2 0.7.1
oracle:
	@tests/oracle/make_venv.sh $(ORACLE)
	@for release in $(ORACLE_RELEASES); do tests/oracle/make_release_venv.sh $$release || exit 1; done

clients:
	@scripts/npm-ci.sh tests/clients

plugins: $(STAMP)
	@tests/plugins/install.sh $(PY)

web-deps:
	@scripts/npm-ci.sh web --optional

# The end-to-end tier (pytest marker e2e, left out of `make test`): real llama-stack and OGX
# servers, each from its cached venv (scripts/llama-stack-env.sh, scripts/ogx-env.sh), behind
# the service.
E2E_LLAMA_STACK := 0.7.3 0.2.23
E2E_OGX := 1.5.0 1.2.5
e2e: $(STAMP)
	@for version in $(E2E_LLAMA_STACK); do scripts/llama-stack-env.sh $$version || exit 1; done
	@for version in $(E2E_OGX); do scripts/ogx-env.sh $$version || exit 1; done
	E2E_LLAMA_STACK_VERSIONS="$(E2E_LLAMA_STACK) $(addprefix ogx-,$(E2E_OGX))" \
		$(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

# Benchmarks (bench/): lightspeed-stack 0.1.3 runs from its own venv (--full: llama-stack and
# uvicorn too), built once and cached like the oracle's; lightspeed-stack 0.7.1 from the 0.7.1
# oracle's venv (`oracle`). `make bench`: the whole run (about 15 min on 2 cores);
# `make bench-quick`: a smoke run of every benchmark (what .ci/run calls, 2-3 min).
bench-venv:
	@tests/oracle/make_venv.sh $(BENCH_LIGHTSPEED) --full

bench: $(STAMP) oracle bench-venv
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: $(STAMP) oracle bench-venv
	$(PY) -m bench --quick $(BENCH_ARGS)

# The fault matrix (tests/service/test_fault_matrix.py, part of `make test` too), then its
# table for docs/reliability.md from artifacts/fault-matrix.json.
fault-matrix: $(STAMP) plugins
	$(PY) -m pytest -q tests/service/test_fault_matrix.py $(PYTEST_ARGS)
	$(PY) scripts/fault_matrix.py

clean:
	rm -rf $(VENV) $(ORACLE) $(BENCH_LIGHTSPEED) .venv-llama-stack-* .venv-ogx-* .venv-oracle-*
