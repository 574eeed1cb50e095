# Numécrivain: `make run` and `make test` do all set-up on a fresh machine (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.10
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/numecrivain.tar.gz
TRAINING_DATA := $(shell find data/nlu data/rules data/stories -name '*.yml' 2>/dev/null)
PYTEST_ARGS ?=

# Embedded defaults: SQLite in var/, services on localhost. Override any of them in the environment.
export ACTION_ENDPOINT_URL ?= http://localhost:5055/webhook
export TRACKER_DIALECT ?= sqlite
export TRACKER_DB ?= var/tracker.db
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: help run run-prod prod-packages bench-prod bench test train eval shell sms agent lint typecheck check-content content-report places install browser audit advisories review-nlu clean

help:  ## List the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(VENV)/.python-ok:
	@command -v $(PYTHON) >/dev/null 2>&1 && $(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null || { \
	  echo ""; \
	  echo "Numécrivain needs Python 3.10 (Rasa 3.6 does not install on 3.11 or newer)."; \
	  echo "Install it, for example with pyenv: 'pyenv install 3.10.13' (the .python-version file selects it),"; \
	  echo "or point to it: make run PYTHON=/path/to/python3.10"; \
	  echo ""; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.installed: $(VENV)/.python-ok requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

install: $(VENV)/.installed  ## Create .venv and install the pinned packages

# pip-audit in its own venv: its dependencies must not move Rasa's pins.
AUDIT_VENV := .venv-audit
$(AUDIT_VENV)/.installed: $(VENV)/.python-ok devtools/audit-requirements.lock
	@test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r devtools/audit-requirements.lock
	@touch $@

# kubernetes-validate in its own venv too (it needs a newer jsonschema than Rasa's): checks deploy/k8s offline.
K8S_VENV := .venv-k8s
$(K8S_VENV)/.installed: $(VENV)/.python-ok devtools/k8s-requirements.lock
	@test -x $(K8S_VENV)/bin/python || $(PYTHON) -m venv $(K8S_VENV)
	$(K8S_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r devtools/k8s-requirements.lock
	@touch $@

audit: $(VENV)/.installed $(AUDIT_VENV)/.installed  ## Known vulnerabilities of the pinned packages (docs/security.md)
	$(PY) -m devtools.audit

# Refresh devtools/advisories.json (what the audit reads offline) from a clone of pypa/advisory-database.
advisories: $(VENV)/.installed  ## Refresh the advisory data: make advisories ADVISORY_DB=/path/to/advisory-database
	$(PY) -m devtools.advisories $(if $(ADVISORY_DB),--db $(ADVISORY_DB)) \
	  $(if $(GITHUB_ADVISORY_DB),--github-db $(GITHUB_ADVISORY_DB))

$(MODEL): $(VENV)/.installed config.yml domain.yml $(TRAINING_DATA)
	@mkdir -p models var
	@echo "Training (measured: see 'real' below; make bench reads var/train-seconds.txt)..."
	@start=$$(date +%s); time $(RASA) train --data data/nlu data/rules data/stories --config config.yml \
	  --domain domain.yml --out models --fixed-model-name numecrivain --force \
	  && echo $$(( $$(date +%s) - start )) > var/train-seconds.txt
	@touch $@

train: $(MODEL)  ## Train the model when its data or config changed

run: $(MODEL)  ## Install, train if needed, start bot + actions + web (Ctrl-C stops everything)
	@mkdir -p var
	$(PY) -m bot.launcher

# The production stack's system services, from Debian's packages (CI: a fresh machine, root).
PG_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin/postgres))
prod-packages:  ## Install Debian's postgresql, redis-server and nginx when missing
	@test -n "$(PG_BIN)" && command -v redis-server >/dev/null 2>&1 && { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql redis-server nginx >/dev/null; }

run-prod: $(MODEL) prod-packages  ## Production stack: nginx on :8000, RASA_REPLICAS Rasa processes (2), PostgreSQL, Redis (data in var/prod/)
	@mkdir -p var
	$(PY) -m bot.prod

# Locust and py-spy in their own venv: their pins must not move Rasa's.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: $(VENV)/.python-ok bench/requirements.lock
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.lock
	@touch $@

bench: $(MODEL) $(BENCH_VENV)/.installed  ## Numécrivain vs plain `rasa init` under load (Locust), plots in results/bench/ (BENCH_ARGS=...)
	$(PY) -m bench.load.run $(BENCH_ARGS)

bench-prod: $(MODEL) prod-packages  ## Throughput and p95 with 1 vs 2 Rasa processes, losses with one killed (bench/prod_load.py)
	$(PY) -m bench.prod_load --compare

shell: $(MODEL)  ## Talk to the bot in the terminal
	@mkdir -p var
	$(PY) -m bot.launcher --shell

sms: $(VENV)/.installed  ## Simulate an SMS conversation with the running bot (start `make run SMS_FAKE_GATEWAY=1` first)
	$(PY) -m bot.channels.sms.cli

agent: $(VENV)/.installed  ## Create an agent account (asks the password): make agent NAME=prenom.nom [DISPLAY_NAME="Prénom N."] [ROLE=admin]
	@test -n "$(NAME)" || { echo "Usage: make agent NAME=prenom.nom [DISPLAY_NAME=\"Prénom N.\"] [ROLE=admin]"; exit 1; }
	@mkdir -p var
	$(PY) -m bot.handoff.accounts create "$(NAME)" $(if $(DISPLAY_NAME),--display-name "$(DISPLAY_NAME)") $(if $(ROLE),--role "$(ROLE)")

browser:  ## Install Debian's chromium when missing (browser tests)
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(MODEL) browser prod-packages $(AUDIT_VENV)/.installed $(K8S_VENV)/.installed $(BENCH_VENV)/.installed  ## The whole test suite (what CI runs)
	$(VENV)/bin/ruff check .
	@$(MAKE) --no-print-directory typecheck
	$(PY) -m devtools.audit
	$(PY) -m bot.knowledge.check
	$(RASA) data validate --fail-on-warnings --data data/nlu data/rules data/stories --domain domain.yml
	$(PY) -m pytest $(PYTEST_ARGS)
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/core

eval: $(MODEL)  ## Validation, test-set and cross-validation reports (confusion matrix, per-intent table) in results/
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu/heldout.yml --out results/validation
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu/test_set.yml --out results/test
	$(RASA) test nlu --nlu data/nlu --config config.yml --cross-validation --folds 3 --out results/cross-validation
	$(PY) -m tests.nlu.evaluate table results/validation results/test results/cross-validation
	@echo "Reports: results/{validation,test,cross-validation}/intent_report.md, intent_confusion_matrix.png"

review-nlu: $(VENV)/.installed  ## Misunderstood messages to review (masked); add one: make review-nlu ADD=<id> INTENT=<intent>
	@if [ -n "$(ADD)" ]; then $(PY) -m bot.understanding.review add "$(ADD)" --intent "$(INTENT)"; \
	else $(PY) -m bot.understanding.review list; fi

check-content: $(VENV)/.installed  ## Check the knowledge base (sources, dates, SMS, URLs, contacts)
	$(PY) -m bot.knowledge.check

content-report: $(VENV)/.installed  ## Editor's report: results/content/index.html + one printable page per procedure
	$(PY) -m bot.knowledge.report --out results/content

places: $(VENV)/.installed  ## Replace the places with a CSV of the national standard: make places FILE=lieux.csv
	$(PY) -m bot.places import $(or $(FILE),data/knowledge/lieux_mediation_mel.csv)

lint: $(VENV)/.installed  ## ruff
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed  ## mypy on the Python code (settings and folders in pyproject.toml; cache in var/)
	$(VENV)/bin/mypy

clean:  ## Remove trained models and results (keeps .venv and var/)
	rm -rf models/*.tar.gz results .pytest_cache
