# The README's two set-up commands, `make demo` and `make test`: each creates .venv when it is
# missing and installs what it needs into it (again only when pyproject.toml changes), then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# This machine's pip.conf names local indexes that do not exist for most packages; pip warns
# once per package. Only that warning is dropped.
comma := ,
PIP_INSTALL = $(or $(2),$(BIN)/python) -m pip install --quiet $(1) 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }

.PHONY: demo test test-lowest docs bench bench-ucr clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(call PIP_INSTALL,-e '.[demo]')
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(call PIP_INSTALL,-e '.[test]')
	touch $@ $(VENV)/.installed-demo

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(call PIP_INSTALL,-e '.[test$(comma)bench]')
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-demo

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(call PIP_INSTALL,-e '.[docs]')
	touch $@

# Time series to images; a classifier trained straight from the GunPoint series, then its test
# file predicted; transfer learning on the bundled digits, exported to ONNX and predicted
# again; all with offline pretrained EfficientNet-Lite0 (about 3.5 minutes on 2 CPU cores).
demo: $(VENV)/.installed-demo
	$(BIN)/petclf tsimage samples/GunPoint/GunPoint_TRAIN.tsv demo-out/gunpoint --split train --overwrite
	$(BIN)/petclf tsimage samples/GunPoint/GunPoint_TEST.tsv demo-out/gunpoint --split valid --overwrite
	$(BIN)/petclf train samples/GunPoint/GunPoint_TRAIN.tsv --arch tf_efficientnet_lite0 \
		--out demo-out/gunpoint-series --overwrite
	$(BIN)/petclf predict series demo-out/gunpoint-series samples/GunPoint/GunPoint_TEST.tsv \
		--confusion-plot demo-out/gunpoint-series/test_confusion_matrix.png | tail -n 12
	$(BIN)/petclf train samples/digits --arch tf_efficientnet_lite0 \
		--out demo-out/digits --overwrite
	$(BIN)/petclf predict image demo-out/digits samples/digits/0/0000.png samples/digits/3/0003.png \
		samples/digits/7/0007.png --top-k 2
	$(BIN)/petclf export demo-out/digits --overwrite
	$(BIN)/petclf predict image demo-out/digits/model.onnx samples/digits/0/0000.png --top-k 2

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest --durations=20

# The floors in pyproject.toml, proved: the lowest versions they allow of petclf's own dependencies
# (uv's lowest-direct resolution, from PyPI) in .venv-lowest, and the fast tier on them.
LOWEST := .venv-lowest
test-lowest:
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(call PIP_INSTALL,uv,$(LOWEST)/bin/python)
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python \
		--resolution lowest-direct -e '.[test]'
	$(LOWEST)/bin/python -m pytest -m "not slow"

# The documentation site, into site/: --strict fails on a broken link or a missing reference
# (mkdocs.yml), and the CLI reference is generated from the commands at every build.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict

# Every benchmark, one table, written to bench/results/<date>-<machine>.md (about 15 minutes here).
bench: $(VENV)/.installed-test
	$(BIN)/python bench/all.py

# Test accuracy on the ten UCR/UEA datasets of bench/ucr.py's panel, 3 seeds each, beside MiniRocket
# (about an hour on 2 CPU cores with the ridge defaults, 2026-12-01; `bench/ucr.py --minirocket-only` measures the reference in minutes).
bench-ucr: $(VENV)/.installed-bench
	$(BIN)/python bench/ucr.py

clean:
	rm -rf $(VENV) $(LOWEST) demo-out site .pytest_cache
