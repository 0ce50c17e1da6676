# `make run` and `make test` do all the set-up on a fresh machine, then run the app / the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

X11_PACKAGES := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0
X11_SONAMES := libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libxkbcommon-x11.so.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test desktop-libs

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

test: setup
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest
