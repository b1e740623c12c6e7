# facewatch — every recipe runs inside the project virtualenv (.venv), created on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# `sam build` looks for python3.13 on PATH: the venv is made with it, so put the venv first.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv demo test lint typecheck validate security build pytest bench invoke deploy clean console docs docs-serve lock

help:
	@echo "make demo      image mode, then stream mode, on an embedded AWS emulation (moto); MODE=image|stream for one"
	@echo "make console   serve the alert console on http://127.0.0.1:8080 for the demo's cameras (moto)"
	@echo "make test      lint, type check, sam validate --lint, checkov, sam build, and the test suite"
	@echo "make invoke FUNCTION=DetectorFunction EVENT=events/detector-unknown-face.json   Docker-free 'sam local invoke'"
	@echo "make docs      the documentation site (docs/ -> site/, mkdocs build --strict: broken links fail)"
	@echo "make bench     benchmarks (print figures, never fail on speed)"
	@echo "make build     sam build;  make deploy   sam build && sam deploy"

# Dependencies come from pyproject.toml (the extras cli, sampler, demo, dev); requirements-dev.lock pins every
# package of the developer toolchain (regenerate it with `make lock`). `make demo` installs only the demo extra
# (runtime + emulation + sampler); `make test` and the rest install dev, which includes it.
LOCK := requirements-dev.lock
DEMO_STAMP := $(VENV)/.installed-demo
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check

$(VENV)/bin/python:
	"$$(scripts/find-python)" -m venv $(VENV)

$(STAMP): pyproject.toml src/requirements.txt $(LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) -c $(LOCK) -e ".[dev]"
	@touch $(STAMP) $(DEMO_STAMP)

# --no-compile: the demo imports a small part of what it installs; Python compiles that on first use.
$(DEMO_STAMP): pyproject.toml src/requirements.txt $(LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) --no-compile -c $(LOCK) -e ".[demo]"
	@touch $(DEMO_STAMP)

venv: $(STAMP)

# checkov has a virtualenv of its own: it pins boto3 and packaging to versions older than the project's.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# --skip-download: no calls to the Prisma Cloud platform, so the scan runs offline.
CHECKOV_FLAGS := --config-file .checkov.yaml --framework cloudformation --skip-download --compact --quiet
EXPANDED_TEMPLATE := .aws-sam/security/template-expanded.json

$(CHECKOV_STAMP): requirements-security.txt
	@test -x $(CHECKOV_VENV)/bin/python || "$$(scripts/find-python)" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-security.txt
	@touch $(CHECKOV_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts facewatch_local facewatch_cli benchmarks dashboards facewatch_sampler facewatch_testkit
	$(BIN)/ruff format --check src tests scripts facewatch_local facewatch_cli benchmarks dashboards facewatch_sampler facewatch_testkit

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint --template-file template.yaml

# Twice: template.yaml as written, then as the SAM transform gets it (checkov does not expand Fn::ForEach,
# so the per-camera resources are scanned there). Findings suppressed for every resource they apply to are in
# .checkov.yaml, one justification each; a finding for one resource only, next to it (Metadata.checkov.skip).
security: $(STAMP) $(CHECKOV_STAMP)
	$(CHECKOV) --file template.yaml $(CHECKOV_FLAGS)
	@mkdir -p $(dir $(EXPANDED_TEMPLATE))
	$(PY) -m scripts.expanded_template > $(EXPANDED_TEMPLATE)
	$(CHECKOV) --file $(EXPANDED_TEMPLATE) $(CHECKOV_FLAGS)
	$(CHECKOV) --file templates/camera.yaml $(CHECKOV_FLAGS)

build: $(STAMP)
	$(BIN)/sam build --template-file template.yaml --build-dir .aws-sam/build

# The console's browser tests (tests/browser) drive Debian's Chromium through Playwright, which never downloads a
# browser here: installed once, when it is missing.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends chromium

pytest: $(STAMP) $(CHROMIUM)
	$(BIN)/pytest

test: lint typecheck validate security build docs pytest

# When make started, before the virtualenv and the install: the demo's summary reports the time to its first
# alert from here (a fresh clone's whole wait). MODE=image or MODE=stream runs one of the two (default: both,
# image mode first).
DEMO_STARTED_AT := $(shell date +%s.%N)

demo: $(DEMO_STAMP)
	FACEWATCH_DEMO_STARTED_AT=$(DEMO_STARTED_AT) $(PY) -m facewatch_local.demo --mode $(or $(MODE),all)

console: $(DEMO_STAMP)
	$(PY) -m facewatch_local.console

invoke: $(DEMO_STAMP)
	$(PY) -m facewatch_local.invoke --function "$(FUNCTION)" --event "$(EVENT)"

# --strict: a warning (a link to a missing page or anchor, a page missing from the nav) fails the build.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	$(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8000

bench: $(STAMP)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	$(PY) -m benchmarks
	$(PY) -m benchmarks.local_detector
	$(PY) -m benchmarks.two_phase
	$(PY) -m benchmarks.cost_image_mode

deploy: build
	$(BIN)/sam deploy

# Pins the developer toolchain: a clean virtualenv gets the dev extra, and pip freeze writes what it holds.
lock:
	rm -rf $(VENV)/lock
	"$$(scripts/find-python)" -m venv $(VENV)/lock
	$(VENV)/lock/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]"
	{ echo "# The developer toolchain, every package pinned: generated by make lock from pyproject.toml's dev extra."; \
	  echo "# Python $$($(VENV)/lock/bin/python -c 'import platform; print(platform.python_version(), platform.machine())')."; \
	  $(VENV)/lock/bin/python -m pip freeze --exclude facewatch; } > $(LOCK)
	rm -rf $(VENV)/lock

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache site
