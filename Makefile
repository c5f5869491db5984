# Two entry points matter: `make run` (demo witness site) and `make test` (everything CI checks).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-data
# `make run PORT=8081` when 8080 is taken; the site still listens on loopback only.
PORT ?= 8080
# Debian packages the tests drive for real: age/minisign for interop, tor for --verify-config and
# the private Tor network of tests/tornet (the `tor` package also ships tor-gencert),
# haproxy for the front (tests/deploy run it from deploy/haproxy.cfg), chromium for the
# browser tests, firefox-esr for the same flow in Tor Browser's engine (driven by marionette-driver
# from PyPI: Debian has no geckodriver); ffmpeg makes the media tests' clips and ExifTool reads their
# metadata (issue M); libseccomp's scmp_sys_resolver checks the media cell's seccomp numbers for
# every machine it filters on; nft loads deploy/README.md's firewall in a test's network namespace;
# strace watches Firefox's connections (tests/e2e/test_firefox_quiet.py).
# Each entry is COMMAND:PACKAGE where they differ.
APT_TOOLS := age minisign tor haproxy chromium firefox-esr ffmpeg exiftool:libimage-exiftool-perl \
	scmp_sys_resolver:seccomp nft:nftables strace
# Debian's spelling dictionaries `make wordlists` reads (and the test that rebuilds the lists).
APT_DICTS := hunspell-uk hunspell-ru
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv dicts tools lint test run tornet wheelhouse lock bench clean js wordlists

# The [wordlists] extra is for tests/intake/wordlists, which rebuilds the committed lists.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,test,wordlists]'
	touch $(STAMP)

venv: $(STAMP)

tools: dicts
	@missing=""; for t in $(APT_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

dicts:
	@missing=""; for p in $(APT_DICTS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# The codename word lists (intake/wordlists/{en,uk,ru}.txt), rebuilt from the pinned [wordlists]
# extra and Debian's dictionaries; it prints each list's SHA-256 for intake.wordlists.DIGESTS.
wordlists: venv dicts
	$(BIN)/python -m pip install -q -e '.[wordlists]'
	$(BIN)/python -m intake.wordlists.build

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits non-zero when a test fails and with 5 when no test ran; both fail `make test`.
# The local PostgreSQL is started when it is installed (scripts/local-postgres), so the storage
# tests run on it as in CI; an INTAKE_TEST_DATABASE_URL already set is kept.
test: venv tools lint
	if [ -z "$${INTAKE_TEST_DATABASE_URL:-}" ] && url=$$(scripts/local-postgres); then \
	  export INTAKE_TEST_DATABASE_URL="$$url"; \
	fi; \
	$(BIN)/python -m pytest --cov --cov-branch --cov-report=term:skip-covered $(PYTEST_ARGS)

run: venv
	$(BIN)/python -m intake.demo --data-dir $(DEMO_DIR)
	INTAKE_DATA_DIR=$(DEMO_DIR) INTAKE_KEYRING_FILE=$(DEMO_DIR)/keyring.json \
		$(BIN)/intake serve --bind 127.0.0.1:$(PORT)

# The deployment (gunicorn, HAProxy, the shipped torrc) behind an onion on a private Tor network
# on 127.0.0.1 (tests/tornet): prints the onion address and the SOCKS port; Ctrl-C stops it all.
tornet: venv tools
	$(BIN)/python -m tests.tornet

# The air-gapped laptop's install set: triage with its media extra, every dependency as a wheel
# (pdqhash, an sdist, built here with the C compiler) for this venv's Python, Debian 12's 3.11.
# tests/triage/test_wheelhouse.py builds it into a temporary WHEELHOUSE and installs it with
# `pip install --no-index` into a fresh venv. setuptools builds in build/ and never removes a
# module deleted since its last run from it: that folder goes first, or the wheel carries it.
WHEELHOUSE ?= wheelhouse
wheelhouse: venv
	rm -rf build $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	$(BIN)/python -m pip wheel -q -w $(WHEELHOUSE) '.[media]'
	cd $(WHEELHOUSE) && for w in *.whl; do echo "$$w --hash=sha256:$$(sha256sum $$w | cut -d' ' -f1)"; done > requirements.txt

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

# The testimony form's in-browser sealing script (issue 16): npm's `age-encryption` bundled with
# esbuild, both pinned by js/package-lock.json (install scripts off: esbuild's binary comes from
# its pinned platform package). The output, intake/web/static/seal.js, is committed; the test
# tests/intake/web/test_seal_bundle.py rebuilds it and checks the bytes are the same.
js:
	cd js && npm ci --ignore-scripts --no-audit --no-fund
	js/build.sh

bench: venv tools
	$(BIN)/python bench/crypto.py

clean:
	rm -rf js/node_modules
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .coverage
