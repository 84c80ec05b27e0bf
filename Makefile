# Two commands on a fresh machine:
#   make        set up .venv/ and build every booklet into build/
#   make test   run the test suite (setting up first if needed)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: all build check test clean setup

all: build

setup: $(STAMP)

$(STAMP): requirements.txt tools/system-deps.sh
	./tools/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
	touch $(STAMP)

build: $(STAMP)
	$(PY) render.py

check: $(STAMP)
	$(PY) render.py check

test: $(STAMP)
	./tools/system-deps.sh test
	$(PY) -m pytest -q

clean:
	rm -rf build
