# Millwright: `make demo` and `make test` are all a fresh clone needs (`make install`: the venv
# and the `millwright` command in .venv/bin).
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROJECT_STAMP := $(VENV)/.installed-project

# pytest-xdist: test files spread over workers, each file whole on one worker (a module's shared
# Airflow and sandboxes start once). Most tests wait on sockets and subprocesses, so more workers
# than cores pays off; `make test PYTEST_XDIST=` runs serially.
PYTEST_XDIST ?= -n 4 --dist loadfile

.PHONY: install demo demo-stop test test-fast lint format bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The project itself, editable (its pins came with requirements.txt above): the `millwright` command.
$(PROJECT_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(PROJECT_STAMP)

install: $(PROJECT_STAMP)

demo: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m include.cli.demo start

demo-stop: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m include.cli.demo stop

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not airflow" $(PYTEST_XDIST) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

BENCH_VENV ?= .venv-bench
BENCH_N    ?= 1000000

# Full-sync benchmark (millwright vs. its limits vs. dlt) in its own venv; see docs/BENCHMARKS.md.
bench:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	$(BENCH_VENV)/bin/python -m bench.sync_full --n $(BENCH_N) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .airflow .demo .millwright .pytest_cache .ruff_cache
