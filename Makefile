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

.PHONY: help venv demo test lint typecheck validate build pytest bench invoke deploy clean

help:
	@echo "make demo      run the whole pipeline on an embedded AWS emulation (moto) and print the alerts"
	@echo "make test      lint, type check, sam validate --lint, sam build, and the test suite"
	@echo "make invoke FUNCTION=DetectorFunction EVENT=events/detector-unknown-face.json   Docker-free 'sam local invoke'"
	@echo "make bench     benchmarks (print figures, never fail on speed)"
	@echo "make build     sam build;  make deploy   sam build && sam deploy"

$(STAMP): requirements-dev.txt src/requirements.txt pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts facewatch_local facewatch_cli
	$(BIN)/ruff format --check src tests scripts facewatch_local facewatch_cli

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint --template-file template.yaml

build: $(STAMP)
	$(BIN)/sam build --template-file template.yaml --build-dir .aws-sam/build

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck validate build pytest

demo: $(STAMP)
	$(PY) -m facewatch_local.demo

invoke: $(STAMP)
	$(PY) -m facewatch_local.invoke --function "$(FUNCTION)" --event "$(EVENT)"

bench: $(STAMP)
	$(PY) -m benchmarks

deploy: build
	$(BIN)/sam deploy

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
