# Two entry points: `make run` (service on the demo agent) and `make test` (the test suite).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ORACLE := .venv-oracle

.PHONY: run test lint oracle clean

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || { PYBIN=$$(scripts/find-python) && $$PYBIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

run: $(STAMP)
	$(PY) -m service $(ARGS)

test: $(STAMP) oracle
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m mypy
	$(PY) -m ruff check service formatters tests

oracle:
	@tests/oracle/make_venv.sh $(ORACLE)

clean:
	rm -rf $(VENV) $(ORACLE)
