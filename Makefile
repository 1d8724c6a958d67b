# Two entry points: `make run` (service on the demo agent) and `make test` (the test suite).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ORACLE := .venv-oracle
BENCH_LIGHTSPEED := .venv-bench-lightspeed

.PHONY: run test test-fast lint docs oracle clients plugins web-deps e2e clean bench bench-quick bench-venv fault-matrix

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || { PYBIN=$$(scripts/find-python) && $$PYBIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

run: $(STAMP)
	$(PY) -m service $(ARGS)

test: $(STAMP) oracle clients plugins web-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite with Python alone (no Node, Chromium, oracle venvs or redis-server): every test but
# those marked node, browser, oracle or redis (setup.cfg's markers), and e2e as always.
FAST_MARKERS := not e2e and not oracle and not node and not browser and not redis
test-fast: $(STAMP) plugins
	$(PY) -m pytest -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

# mypy --strict, ruff, and the layering (import-linter contracts in setup.cfg [importlinter]).
lint: $(STAMP)
	$(PY) -m mypy
	$(PY) -m ruff check service formatters tests
	$(VENV)/bin/lint-imports

# The documentation site (mkdocs.yml, docs/): built strictly, offline, into site/ (git-ignored).
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	@touch $@

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The differential tests' side venvs: lightspeed-stack 0.1.3, and each later release in
# ORACLE_RELEASES (tests/oracle/make_release_venv.sh), built once and cached.
ORACLE_RELEASES := 0.2.0 0.3.0
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
# uvicorn too), built once and cached like the oracle's. `make bench`: the whole run (< 10 min);
# `make bench-quick`: a smoke run of every benchmark (what .ci/run calls).
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
