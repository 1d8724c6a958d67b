# Two entry points: `make run` (service on the demo agent) and `make test` (the test suite).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ORACLE := .venv-oracle

.PHONY: run test lint oracle clients plugins web-deps e2e clean

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || { PYBIN=$$(scripts/find-python) && $$PYBIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

run: $(STAMP)
	$(PY) -m service $(ARGS)

test: $(STAMP) oracle clients plugins web-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m mypy
	$(PY) -m ruff check service formatters tests

oracle:
	@tests/oracle/make_venv.sh $(ORACLE)

clients:
	@scripts/npm-ci.sh tests/clients

plugins: $(STAMP)
	@tests/plugins/install.sh $(PY)

web-deps:
	@scripts/npm-ci.sh web --optional

# The end-to-end tier (pytest marker e2e, left out of `make test`): real llama-stack servers,
# each from its cached venv (scripts/llama-stack-env.sh), behind the service.
E2E_LLAMA_STACK := 0.7.3 0.2.23
e2e: $(STAMP)
	@for version in $(E2E_LLAMA_STACK); do scripts/llama-stack-env.sh $$version || exit 1; done
	E2E_LLAMA_STACK_VERSIONS="$(E2E_LLAMA_STACK)" $(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(ORACLE) .venv-llama-stack-*
