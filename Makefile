# Chasqui: the two commands are `make run` (the product) and `make test` (every check).
# Both install what is missing first: the app's virtualenv (.venv, Python >= 3.11) and Rasa's own
# virtualenv (Python 3.10, outside the clone, named by the hash of requirements/rasa.lock).

SHELL := /bin/bash
CACHE_DIR ?= $(HOME)/.cache/chasqui
ifndef PYTHON
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
endif
ifndef PYTHON310
PYTHON310 := $(shell for p in python3.10 $$(ls -d $(HOME)/.pyenv/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do \
	  $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
endif
RASA_HASH := $(shell sha256sum requirements/rasa.lock | cut -c1-12)
RASA_VENV ?= $(CACHE_DIR)/rasa-venv-$(RASA_HASH)
APP_HASH := $(shell cat pyproject.toml requirements/app.lock | sha256sum | cut -c1-12)
VENV := .venv
BIN := $(VENV)/bin
AXE := tests/a11y/node_modules/axe-core/axe.min.js
export CHASQUI_RASA_BIN := $(RASA_VENV)/bin/rasa
export CHASQUI_CACHE_DIR := $(CACHE_DIR)
export PIP_DISABLE_PIP_VERSION_CHECK := 1


.PHONY: run test install install-run environments system-deps system-deps-run bench bench-conversacion bench-escala lint typecheck validate pytest nlu-report train chat lock-app lock-rasa clean conversaciones fuzz

run: install-run
	$(BIN)/chasqui run

test: install lint typecheck validate pytest

# What running needs: the fonts of the documents and the two environments, built side by side (two pip
# processes: most of their time is unpacking and compiling, one per core). `install` adds what only the
# tests use (Chromium, poppler, NSS tools, Node.js and axe-core).
install-run: system-deps-run
	@$(MAKE) --no-print-directory -j2 environments

environments: $(VENV)/.installed-$(APP_HASH) $(RASA_VENV)/.installed

install: install-run system-deps $(AXE)

# Debian packages the product and its tests use: poppler's pdfsig and NSS certutil (an independent check
# of the PAdES signatures), DejaVu fonts for the documents, Chromium for the console's browser tests,
# Node.js and npm for axe-core (the accessibility tests), HAProxy for the replicas profile (`CHASQUI_REPLICAS`
# above 1 in `make run`; its test in `make test`).
# Each command maps to the Debian package that provides it; only the missing ones are installed, so a
# Node.js from NodeSource (which bundles npm and conflicts with Debian's npm) is left alone.
SYSTEM_PACKAGES := pdfsig:poppler-utils pdftotext:poppler-utils certutil:libnss3-tools chromium:chromium \
	node:nodejs npm:npm haproxy:haproxy
RUN_PACKAGES := $(if $(filter-out 1,$(or $(CHASQUI_REPLICAS),1)),haproxy:haproxy)
system-deps-run:
	@$(MAKE) --no-print-directory system-deps SYSTEM_PACKAGES="$(RUN_PACKAGES)"

system-deps:
	@pkgs=""; for pair in $(SYSTEM_PACKAGES); do c=$${pair%%:*}; p=$${pair#*:}; \
	  command -v $$c >/dev/null || case " $$pkgs " in *" $$p "*) ;; *) pkgs="$$pkgs $$p";; esac; done; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || pkgs="$$pkgs fonts-dejavu-core"; \
	if [ -n "$$pkgs" ]; then \
	  echo "Instalando paquetes del sistema:$$pkgs…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$pkgs >/dev/null; \
	fi

# axe-core for tests/a11y, exactly as tests/a11y/package-lock.json pins it (npm ci: reproducible, lock untouched).
$(AXE): tests/a11y/package-lock.json | system-deps
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	@touch $@

$(VENV)/.installed-$(APP_HASH):
	@test -n "$(PYTHON)" || { echo "Se necesita Python 3.11 o superior."; exit 1; }
	@echo "Instalando el entorno de la aplicación en $(VENV) con $(PYTHON)…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/app.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The folder's name carries the hash of the lock, so an existing, complete environment is always current
# (no file-date prerequisite: a fresh clone must not rebuild an environment other clones share).
$(RASA_VENV)/.installed:
	@test -n "$(PYTHON310)" || { echo "Rasa 3.6.21 necesita Python 3.10 (pyenv install 3.10) o la imagen oficial rasa/rasa:3.6.21; ver README."; exit 1; }
	@echo "Instalando Rasa 3.6.21 en $(RASA_VENV) con $(PYTHON310) (unos minutos la primera vez)…"
	@rm -rf $(RASA_VENV) && mkdir -p $(CACHE_DIR)
	$(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install -q "pip<25" wheel setuptools==70.3.0
	$(RASA_VENV)/bin/python -m pip install -q --no-deps -r requirements/rasa.lock
	$(RASA_VENV)/bin/rasa --version >/dev/null
	@touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy
	$(BIN)/lint-imports

validate: install
	cd $(CURDIR) && RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 \
	  $(CHASQUI_RASA_BIN) data validate --domain dialogs/dominio --data intents dialogs/reglas --fail-on-warnings

pytest: install
	$(BIN)/chasqui train
	$(BIN)/pytest -q

train: install
	$(BIN)/chasqui train

chat: install
	$(BIN)/chasqui chat

nlu-report: install
	$(BIN)/chasqui nlu-report

# The conversation corpus (tests/e2e/conversaciones/) against the running product, with the «done» thresholds.
conversaciones: install
	$(BIN)/chasqui train
	$(BIN)/pytest -q -s tests/e2e/test_conversaciones.py

bench: install
	$(BIN)/chasqui bench-documentos

# Gateway vs Rasa direct on a throw-away instance; e.g. `make bench-conversacion ARGS="--postgres --modelo M.tar.gz"`.
bench-conversacion: install
	$(BIN)/chasqui bench-conversacion $(ARGS)

# 1+1 against 2+2 replicas behind HAProxy, on PostgreSQL and Redis (both on 127.0.0.1 by default; see --help).
bench-escala: install
	$(BIN)/chasqui bench-escala $(ARGS)

# The long fuzzing of the public routes (Hypothesis and Schemathesis, marker `fuzz`); `make test` runs short versions.
fuzz: install
	$(BIN)/pytest -q --fuzz -m fuzz tests/gateway/test_fuzz.py

lock-app:
	rm -rf /tmp/chasqui-lock && $(PYTHON) -m venv /tmp/chasqui-lock
	/tmp/chasqui-lock/bin/pip install -q -e '.[dev]'
	/tmp/chasqui-lock/bin/pip freeze --all | grep -v -E '^(pip|setuptools|wheel|chasqui)==|^-e ' > requirements/app.lock.new
	mv requirements/app.lock.new requirements/app.lock

lock-rasa:
	rm -rf /tmp/chasqui-rasa-lock && $(PYTHON310) -m venv /tmp/chasqui-rasa-lock
	/tmp/chasqui-rasa-lock/bin/pip install -q "pip<25" && /tmp/chasqui-rasa-lock/bin/pip install -q rasa==3.6.21
	/tmp/chasqui-rasa-lock/bin/pip freeze --all | grep -v -E '^(pip|setuptools|wheel)==' > requirements/rasa.lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
