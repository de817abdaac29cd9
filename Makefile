PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config.yaml

.PHONY: run build test lint typecheck bench lock image-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The editable install leaves compiling to `build`, which redoes it whenever a source changes.
$(STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	NEWSBOT_COMPILE=0 $(BIN)/python -m pip install --quiet -e '.[dev]' >$(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	touch $(STAMP)

# The matching package compiled with mypyc, in place (see setup.py); NEWSBOT_COMPILE=0 runs it as pure
# Python. The extensions are touched after each build: mypyc keeps an unchanged one as it was, older
# than its source. The stamp names the mode, so that switching modes rebuilds.
MATCHING_SOURCES := $(wildcard bot/matching/*.py bot/matching/*.c)
COMPILE := $(if $(filter 0,$(NEWSBOT_COMPILE)),0,1)
BUILT := $(VENV)/.built-$(COMPILE)

$(BUILT): $(STAMP) setup.py $(MATCHING_SOURCES)
	@rm -f $(VENV)/.built-*
	@if [ $(COMPILE) = 0 ]; then \
		rm -f bot/matching/*.so; \
	else \
		echo "compiling bot/matching with mypyc"; \
		$(BIN)/python setup.py --quiet build_ext --inplace >$(VENV)/build.log 2>&1 \
			|| { cat $(VENV)/build.log; exit 1; }; \
		touch bot/matching/*.so; \
	fi
	@$(BIN)/python -c "from bot.matching import build; print('matching:', build.describe())"
	@touch $@

build: $(BUILT)

run: $(BUILT)
	$(BIN)/python -m bot run --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench setup.py
	$(BIN)/ruff format --check bot handlers tests bench setup.py

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck $(BUILT)
	$(BIN)/python -m pytest

# Each runs even when one before it cannot (a bench whose data is missing exits 2 with one line).
BENCHES := matching matching_peers matching_scale store_listing summaries extraction parsers feeds delivery stories store_drivers scale
bench: $(BUILT)
	NEWSBOT_COMPILE=0 $(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@failed=""; for bench in $(BENCHES); do \
		$(BIN)/python bench/$$bench.py || failed="$$failed $$bench"; \
	done; [ -z "$$failed" ] || { echo "did not run to the end:$$failed"; exit 1; }

# requirements.lock: what the Docker image installs, every runtime and build requirement pinned, pip
# itself included (pyproject.toml keeps ranges). Refresh it with `make lock` and commit it.
lock: $(STAMP)
	$(BIN)/python -c 'import tomllib; print("pip", *tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
		| $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --custom-compile-command "make lock" \
			pyproject.toml - -o requirements.lock

# The image's install and entry commands, outside a container (CI runs this too).
image-check:
	work=$$(mktemp -d) && trap 'rm -rf "$$work"' EXIT && bash .ci/image-check . "$$work"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build bot/matching/*.so
