# Two commands for a newcomer (see README): `make demo` and `make test`.
# Each sets up .venv on first use (torch CPU wheel first, then the exact lock) and re-installs
# when requirements.lock or pyproject.toml change.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test test-fast bench lint clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	# torch first, pinned: anything looser pulls a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.stamp-*
	touch $@

demo: setup
	$(BIN)/memeloop demo

test: setup
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -m "not slow and not e2e and not postgres" -q
	$(BIN)/python -m pytest -m "slow or e2e or postgres" -q

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not e2e and not postgres" -q

bench: setup
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: setup
	$(BIN)/ruff check bot generator feedback migrations tests bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
