# Two entry points: `make demo` and `make test`. Both create/update .venv on their own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck importlint pytest venv bytecode clean

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

demo: $(STAMP) bytecode
	$(BIN)/knoten demo build
	$(BIN)/knoten serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy mobility signals charging api scenarios

importlint: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

test: lint typecheck importlint pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
