# The two commands: `make demo` runs the product, `make test` passes the tests.
# Each does its own set-up: virtualenv, locked dependencies, system packages.
PYTHON ?= python3.11
VENV := .venv
LOCK := requirements/dev.txt
STAMP := $(VENV)/.installed-$(shell sha256sum $(LOCK) 2>/dev/null | cut -c1-16)

.PHONY: demo test static venv system-deps lock clean fresh-check compose-check

demo: venv
	bin/demo

test: venv system-deps node_modules/.installed
	$(VENV)/bin/python -m tests.run

# The static part of `make test` alone (no services, no browser).
static: venv
	$(VENV)/bin/python -m tests.run --static-only

venv: $(STAMP)

# Debian's python3.11 makes no venv without python3-venv: bin/install-system-deps adds it.
$(STAMP): $(LOCK)
	test -x $(VENV)/bin/python || { PYTHON=$(PYTHON) bin/install-system-deps demo && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q --require-hashes -r $(LOCK)
	rm -f $(VENV)/.installed-*
	touch $@

system-deps:
	PYTHON=$(PYTHON) bin/install-system-deps test

# Issue 14, outside `make test` (minutes each; podman, runc and debootstrap installed when
# missing). fresh-check: `make demo`, a first-time logon and the static checks in a clean
# Debian 12 container. compose-check: docker-compose.yml booted with podman-compose, a
# first-time logon through nginx, then scaled to two webs and two workers, logon again.
fresh-check:
	bin/fresh-check

compose-check:
	bin/compose-check

# Test-only browser tools (axe-core), pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The logon benchmark of issue 7 (about 4 minutes; appends a dated section to docs/benchmarks.md).
.PHONY: bench
bench: venv system-deps
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

# Re-pin after editing requirements/*.in (needs network). pip-tools lives in its own venv under
# var/, not in the project's lock; the lock names no index, so it installs from PyPI anywhere.
LOCK_VENV := var/lock-venv
PIP_COMPILE := ../$(LOCK_VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install -q pip-tools; }
	cd requirements && $(PIP_COMPILE) -o base.txt base.in
	cd requirements && $(PIP_COMPILE) -o dev.txt dev.in
	$(VENV)/bin/python -m tests.lock_guard requirements/base.txt requirements/dev.txt

clean:
	rm -rf $(VENV) var/staticfiles
