# navarch — the two commands a fresh machine needs are `make up` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install docker etcd dnstools cloudinit images lint test test-unit up down status bench fuzz clean compose-up compose-down compose-images compose-tools compose-v2

# A fresh venv with the project (editable) and its test tools. Re-runs pip only when
# pyproject.toml changed since the last install, so it is quick when nothing did.
install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[aws,aws-test]'
	@# Then `test`: kubernetes 37 lifts python-dateutil past the <3 that botocore and moto
	@# declare (pip prints a conflict and goes on); they work with it (tests/unit/test_aws_*).
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

# A Docker Engine that answers: installs Debian's docker.io and starts dockerd when needed.
docker:
	@deploy/ensure-docker.sh

# An etcd server (Debian's etcd-server 3.4.23, not 3.5.0-3.5.2) and etcdctl on PATH.
etcd:
	@deploy/ensure-etcd.sh

# dig and dnsperf (Debian's bind9-dnsutils, dnsperf): the cluster DNS tests and benchmark.
dnstools:
	@deploy/ensure-dns-tools.sh

# Debian's cloud-init: the `navarch aws` tests validate their user-data with `cloud-init schema`.
cloudinit:
	@deploy/ensure-cloud-init.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install docker etcd dnstools cloudinit compose-tools compose-v2 lint
	$(BIN)/pytest -q tests

test-unit: install etcd
	$(BIN)/pytest -q tests/unit

bench: install docker etcd dnstools
	$(BIN)/python -m bench

# schemathesis over the apiserver's OpenAPI document (about 10,000 cases, at most 30
# minutes): fails if any answer is a 5xx. Report in .fuzz/.
fuzz: install etcd
	$(BIN)/python -m bench.fuzz

# A local three-node cluster with the sample app. UP_FLAGS passes flags to `navarch up`
# (e.g. UP_FLAGS="--data-dir /tmp/c --apiserver-port 7443").
up: install docker etcd compose-tools
	@deploy/build-images.sh
	@PYTHON=$(BIN)/python deploy/compose/build-images.sh addon
	$(BIN)/navarch up $(UP_FLAGS)
	$(BIN)/navctl apply -f deploy/sample-app.yaml
	$(BIN)/navctl rollout status deployment/web --timeout 180s
	$(BIN)/navctl -n kube-system rollout status deployment/navarch-dns --timeout 180s
	@echo
	@echo "The sample app runs: try  $(BIN)/navctl get pods -o wide  (or kubectl get pods -o wide)"

down: install
	$(BIN)/navarch down

status: install
	$(BIN)/navarch status

# The docker-compose cluster (deploy/docker-compose.yml): images built locally from Debian
# packages (cached), 3 etcd members, 2 apiservers behind haproxy, 2 controller-managers,
# 2 schedulers, 3 nodes with their own Docker Engines. compose-down keeps the volumes
# (PURGE=1 removes them).
compose-tools:
	@deploy/compose/ensure-tools.sh

# Docker Compose v2 next to Debian's 1.29, for the tests that run the cluster under both.
compose-v2:
	@deploy/compose/ensure-compose-v2.sh

compose-images: install compose-tools
	@deploy/compose/build-images.sh

compose-up: install compose-tools
	@deploy/compose/up.sh

compose-down:
	@deploy/compose/down.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
