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

.PHONY: help venv demo test lint typecheck validate security build pytest bench invoke deploy clean

help:
	@echo "make demo      run the whole pipeline on an embedded AWS emulation (moto) and print the alerts"
	@echo "make test      lint, type check, sam validate --lint, checkov, sam build, and the test suite"
	@echo "make invoke FUNCTION=DetectorFunction EVENT=events/detector-unknown-face.json   Docker-free 'sam local invoke'"
	@echo "make bench     benchmarks (print figures, never fail on speed)"
	@echo "make build     sam build;  make deploy   sam build && sam deploy"

$(STAMP): requirements-dev.txt requirements-sampler.txt src/requirements.txt pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

# checkov has a virtualenv of its own: it pins boto3 and packaging to versions older than the project's.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# --skip-download: no calls to the Prisma Cloud platform, so the scan runs offline.
CHECKOV_FLAGS := --framework cloudformation --skip-download --compact --quiet
EXPANDED_TEMPLATE := .aws-sam/security/template-expanded.json

$(CHECKOV_STAMP): requirements-security.txt
	@test -x $(CHECKOV_VENV)/bin/python || "$$(scripts/find-python)" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-security.txt
	@touch $(CHECKOV_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts facewatch_local facewatch_cli benchmarks dashboards facewatch_sampler
	$(BIN)/ruff format --check src tests scripts facewatch_local facewatch_cli benchmarks dashboards facewatch_sampler

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint --template-file template.yaml

# Twice: template.yaml as written, then as the SAM transform gets it (checkov does not expand Fn::ForEach,
# so the per-camera resources are scanned there). A finding is suppressed only next to its resource, with
# a justification (Metadata.checkov.skip).
security: $(STAMP) $(CHECKOV_STAMP)
	$(CHECKOV) --file template.yaml $(CHECKOV_FLAGS)
	@mkdir -p $(dir $(EXPANDED_TEMPLATE))
	$(PY) -m scripts.expanded_template > $(EXPANDED_TEMPLATE)
	$(CHECKOV) --file $(EXPANDED_TEMPLATE) $(CHECKOV_FLAGS)

build: $(STAMP)
	$(BIN)/sam build --template-file template.yaml --build-dir .aws-sam/build

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck validate security build pytest

demo: $(STAMP)
	$(PY) -m facewatch_local.demo

invoke: $(STAMP)
	$(PY) -m facewatch_local.invoke --function "$(FUNCTION)" --event "$(EVENT)"

bench: $(STAMP)
	$(PY) -m benchmarks
	$(PY) -m benchmarks.local_detector
	$(PY) -m benchmarks.two_phase
	$(PY) -m benchmarks.cost_image_mode

deploy: build
	$(BIN)/sam deploy

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
