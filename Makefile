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
# (pdqhash, an sdist, built here with the C compiler) for Debian 12's Python 3.11 (PY must be a
# 3.11: NEED_PY311 stops otherwise). WHAT is fetched is pinned by `make lock`'s TRIAGE_LOCK (the
# version and the SHA-256 of each file, so a new or re-uploaded release on PyPI is refused, not
# carried to the laptop), fetched from PyPI alone (PYPI_ONLY and PIP_ISOLATED: a local wheel
# folder's file would fail the hash). Building pdqhash and the project needs setuptools, wheel,
# Cython and numpy, which pip's build isolation would fetch unpinned: they come from
# TRIAGE_BUILD_LOCK, installed with hashes into WHEEL_ENV, a fresh venv of the base interpreter
# (`$(PY) -I`: not the dev venv, whose unpinned packages' .pth files run at every start) that
# builds with --no-build-isolation and its own pip cache (a wheel built earlier and cached in
# ~/.cache/pip is checked against no hash). The project's wheel is built with --no-deps from
# `git archive HEAD`, the last commit: an untracked or uncommitted file in the checkout does not
# ship (the recipe says when there were some), and a fresh tree has no stale build/ folder.
# tests/triage/test_wheelhouse.py builds it into a temporary WHEELHOUSE and installs it with
# `pip install --no-index` into a fresh venv.
WHEELHOUSE ?= wheelhouse
WHEEL_ENV = $(WHEELHOUSE).build-env
WHEEL_PIP = $(PYPI_ONLY) $(WHEEL_ENV)/bin/python -I -m pip $(PIP_ISOLATED) \
	--cache-dir $(WHEEL_ENV)/cache
TRIAGE_LOCK ?= deploy/triage-requirements.txt
TRIAGE_BUILD_LOCK ?= deploy/triage-build-requirements.txt
wheelhouse:
	$(NEED_PY311)
	rm -rf $(WHEELHOUSE) $(WHEEL_ENV) && mkdir -p $(WHEELHOUSE)
	$(PY) -I -m venv $(WHEEL_ENV)
	$(WHEEL_PIP) install -q --index-url $(PYPI) --only-binary :all: \
	  --require-hashes --no-deps -r $(TRIAGE_BUILD_LOCK)
	$(WHEEL_PIP) wheel -q --index-url $(PYPI) --no-build-isolation \
	  --require-hashes --no-deps -w $(WHEELHOUSE) -r $(TRIAGE_LOCK)
	mkdir $(WHEEL_ENV)/src && git archive HEAD | tar -x -C $(WHEEL_ENV)/src
	@echo "the project's wheel: from commit $$(git rev-parse --short HEAD)$$(test -z \
	  "$$(git status --porcelain)" || echo ', without the changes git status lists')"
	$(WHEEL_PIP) wheel -q --no-index --no-build-isolation \
	  --no-deps -w $(WHEELHOUSE) $(WHEEL_ENV)/src
	rm -rf $(WHEEL_ENV)
	cd $(WHEELHOUSE) && for w in *.whl; do echo "$$w --hash=sha256:$$(sha256sum $$w | cut -d' ' -f1)"; done > requirements.txt

# The server's dependencies, every one pinned with its hashes (deploy/requirements.txt, installed
# with `pip install --require-hashes`), and the same for the laptop's (TRIAGE_LOCK: the base
# dependencies and the media extra), for the tools that build its wheelhouse (TRIAGE_BUILD_LOCK,
# from deploy/triage-build-requirements.in, held to TRIAGE_LOCK's numpy) and for pip-tools itself
# (LOCK_TOOLS_LOCK). pip-compile runs in LOCK_ENV, a throwaway venv of the base interpreter with
# pip-tools installed from LOCK_TOOLS_LOCK's hashes, not in the dev venv. Resolved on PyPI alone,
# with this machine's pip config (mirrors, local wheels, constraints) switched off, for Python
# 3.11 (NEED_PY311), Debian 12's on the server and the laptop: on a newer Python `--upgrade`
# would pick releases that have dropped 3.11 (PyAV 19). Hashes are of every file PyPI has for
# each pinned version, so they cover aarch64 wheels too. tests/deploy/test_requirements_lock.py
# and tests/triage/test_wheelhouse_lock.py check the results offline.
LOCK := deploy/requirements.txt
LOCK_TOOLS_LOCK := deploy/lock-tools-requirements.txt
LOCK_ENV := .lock-env
PYPI := https://pypi.org/simple
# pip's configuration off: PIP_CONFIG_FILE=/dev/null skips every config file (--isolated alone
# still reads /etc/pip.conf and /etc/xdg/pip/pip.conf) and every PIP_* variable is unset, for
# pip-compile and the pip that `build` starts, which take no --isolated. PIP_ISOLATED is for pip's
# own command line: it ignores the variables too, so the cache goes as --cache-dir.
PYPI_ONLY = env $$(compgen -e | sed -n 's/^\(PIP\|PYTHON\)[A-Z_]*$$/-u &/p') PIP_CONFIG_FILE=/dev/null
PIP_ISOLATED := --isolated --disable-pip-version-check
# The first line of `make lock` and `make wheelhouse`.
NEED_PY311 = @$(PY) -I -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	echo "make $@ needs Python 3.11 (Debian 12's, as on the server and the laptop);" \
	"$(PY) is $$($(PY) -I -V 2>&1 || echo not a Python): run make $@ PY=python3.11" \
	>&2; exit 1; }
PIP_COMPILE = $(PYPI_ONLY) CUSTOM_COMPILE_COMMAND='make lock' \
	$(LOCK_ENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --upgrade \
	--index-url $(PYPI) --no-emit-index-url --no-emit-find-links --cache-dir $(LOCK_ENV)/cache
lock:
	$(NEED_PY311)
	rm -rf $(LOCK_ENV)
	$(PY) -I -m venv $(LOCK_ENV)
	$(PYPI_ONLY) $(LOCK_ENV)/bin/python -I -m pip $(PIP_ISOLATED) --cache-dir $(LOCK_ENV)/cache \
	  install -q --index-url $(PYPI) --only-binary :all: --require-hashes --no-deps \
	  -r $(LOCK_TOOLS_LOCK)
	$(PIP_COMPILE) --extra server --output-file $(LOCK) pyproject.toml
	$(PIP_COMPILE) --extra media --output-file $(TRIAGE_LOCK) pyproject.toml
	$(PIP_COMPILE) --output-file $(TRIAGE_BUILD_LOCK) deploy/triage-build-requirements.in
	$(PIP_COMPILE) --output-file $(LOCK_TOOLS_LOCK) deploy/lock-tools-requirements.in
	rm -rf $(LOCK_ENV)

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
	rm -rf $(VENV) build dist wheelhouse.build-env .lock-env *.egg-info .pytest_cache .mypy_cache .ruff_cache .coverage
