# Two entry points matter: `make run` (demo witness site) and `make test` (everything CI checks).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-data
# Debian packages the tests drive for real: age/minisign for interop, tor for --verify-config and
# the private Tor network of tests/tornet (the `tor` package also ships tor-gencert),
# haproxy for the front (tests/deploy run it from deploy/haproxy.cfg), chromium for the
# JavaScript-off browser tests.
APT_TOOLS := age minisign tor haproxy chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv tools lint test run tornet wheelhouse lock bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,test]'
	touch $(STAMP)

venv: $(STAMP)

tools:
	@missing=""; for t in $(APT_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits non-zero when a test fails and with 5 when no test ran; both fail `make test`.
test: venv tools lint
	$(BIN)/python -m pytest --cov --cov-branch --cov-report=term:skip-covered $(PYTEST_ARGS)

run: venv
	$(BIN)/python -m intake.demo --data-dir $(DEMO_DIR)
	INTAKE_DATA_DIR=$(DEMO_DIR) INTAKE_KEYRING_FILE=$(DEMO_DIR)/keyring.json \
		$(BIN)/intake serve --bind 127.0.0.1:8080

# The deployment (gunicorn, HAProxy, the shipped torrc) behind an onion on a private Tor network
# on 127.0.0.1 (tests/tornet): prints the onion address and the SOCKS port; Ctrl-C stops it all.
tornet: venv tools
	$(BIN)/python -m tests.tornet

wheelhouse: venv
	rm -rf wheelhouse && mkdir -p wheelhouse
	$(BIN)/python -m pip wheel -q -w wheelhouse .
	cd wheelhouse && for w in *.whl; do echo "$$w --hash=sha256:$$(sha256sum $$w | cut -d' ' -f1)"; done > requirements.txt

# The server's dependencies, every one pinned with its hashes (deploy/requirements.txt, installed
# with `pip install --require-hashes`). Resolved on PyPI alone, with this machine's pip config
# (mirrors, local wheels, constraints) switched off, for the Python that runs it: Debian 12's
# 3.11 on the server. tests/deploy/test_requirements_lock.py checks the result offline.
LOCK := deploy/requirements.txt
PIP_TOOLS := pip-tools>=7.4,<8
lock: venv
	$(BIN)/python -m pip install -q '$(PIP_TOOLS)'
	env -u PIP_FIND_LINKS -u PIP_CONSTRAINT -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL \
	  PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND='make lock' \
	  $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --upgrade \
	  --index-url https://pypi.org/simple --no-emit-index-url --no-emit-find-links \
	  --extra server --output-file $(LOCK) pyproject.toml

bench: venv tools
	$(BIN)/python bench/crypto.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .coverage
