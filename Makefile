# Pasar KUBE: `make run` and `make test` set up everything they need on a machine with Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export FLASK_APP := marketplace
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint typecheck e2e install install-dev translations db-upgrade demo clean bench-data bench-load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { echo "Creating the venv failed: on Debian/Ubuntu run 'apt-get install python3-venv'."; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

db-upgrade: install
	mkdir -p instance
	$(BIN)/flask db upgrade

demo: db-upgrade
	$(BIN)/flask demo load --if-empty
	# Builds the search index when there is none, else applies pending changes (the app keeps it in step).
	$(BIN)/flask search drain

run: demo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check marketplace tests bench
	$(BIN)/mypy

e2e: install-dev
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

# The load benchmark (README, Benchmarks): the large dataset into BENCH_DATABASE_URL, then gunicorn + locust.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench
bench-data: install-dev
	$(BIN)/python -m bench.data --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

bench-load: install-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.load.run --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

# Re-extract the messages (babel.cfg names the sources; the default directory filter would skip
# templates/_macros, hence --ignore-dirs), merge them into each catalogue, then compile.
translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k NP_:1,2 --project "Pasar KUBE" --ignore-dirs '.* __pycache__' \
		-o marketplace/translations/messages.pot .
	$(BIN)/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d marketplace/translations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
