# Two entry points: `make demo` and `make test`. Both create/update .venv on their own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck importlint pytest venv bytecode browser clean fuzz

venv: $(STAMP)

# Re-install only when the project's dependency declaration (or this recipe) changed.
# --compile-bytecode: installed libraries come with their bytecode, so a start does not compile
# their sources first (and not on every start where PYTHONDONTWRITEBYTECODE is set).
$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	$(MAKE) --no-print-directory bytecode
	touch $(STAMP)

# The project's own modules are installed editable, so uv compiles none of them: compile them
# here (a start reads the bytecode; changed sources are still compiled, in memory, on import).
bytecode:
	$(BIN)/python -m compileall -q mobility signals charging api scenarios

DEMO    := data/demo
WORKERS ?= 2

# The demo city, its door-to-door graph folder (departures, hubs, itineraries) and the server with
# the station display of its hub (serve prints the URLs, the display's among them).
demo: $(STAMP) bytecode
	$(BIN)/knoten demo build
	@test -f $(DEMO)/graph/manifest.json && test $(DEMO)/graph/manifest.json -nt $(DEMO)/manifest.json || \
	  $(BIN)/knoten build --gtfs $(DEMO)/gtfs/demo-city.gtfs.zip --osm $(DEMO)/osm/demo-city.osm \
	    $$(for s in $(DEMO)/gbfs/*/; do printf -- '--gbfs %s ' "$${s%/}"; done) \
	    --ocpi $(DEMO)/ocpi/locations.json --out $(DEMO)/graph
	$(BIN)/knoten serve --workers $(WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy mobility signals charging api scenarios

importlint: $(STAMP)
	$(BIN)/lint-imports

# The station display's end-to-end tests drive Debian's headless chromium through chromedriver.
# When either is missing and we are root with apt-get (a fresh Debian machine, CI), install them;
# elsewhere (or when the install fails) those tests skip and say why.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing chromium and chromium-driver with apt-get (for the station display tests)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null; } || \
	      echo "Could not install chromium: the station display tests will skip"; \
	  else \
	    echo "chromium/chromedriver missing (not root with apt-get): the station display tests will skip"; \
	  fi; \
	fi

pytest: $(STAMP) browser
	$(BIN)/pytest -q -n 2 --dist loadfile

test: lint typecheck importlint pytest

# a longer fuzz run against the real server (the suite runs a short one): schemathesis over every
# operation, issue 15's hostile requests, /health and the server's memory afterwards
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
