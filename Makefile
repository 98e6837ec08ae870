# lensan — two commands:
#   make demo   sample data for Quảng Ninh (22) and Cần Thơ (92), the three Airflow DAGs run for real,
#               weekly reports in .lensan/exports/
#   make test   the whole test suite, every tier (unit, integration, e2e), slowest tests and total time
# Also: make test-fast (unit tier: no warehouse, dbt or Airflow; under 2 minutes), make test-integration,
# make test-e2e. The tiers are pytest markers (tests/conftest.py says what each one may use).
# The virtualenv is created on first use and reinstalled only when the requirements change.

# Python 3.11 (the version the lock file was resolved for) when available, else python3.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lensan-installed
PYTEST_ARGS ?=

export LENSAN_HOME ?= $(CURDIR)/.lensan
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: demo test test-fast test-integration test-e2e golden golden-record portal-preview install compose-check browser-check warehouse-stop clean help

help:
	@echo "make demo   - dữ liệu mẫu + chạy 3 DAG Airflow / sample data + run the three Airflow DAGs"
	@echo "make test   - chạy toàn bộ kiểm thử / run the whole test suite"
	@echo "make test-fast - kiểm thử nhanh (unit) / unit tests only, no warehouse (< 2 min)"
	@echo "make golden - so sánh đầu ra mẫu với bản ghi chuẩn / compare the demo outputs with the golden record"
	@echo "make clean  - dừng kho nhúng, xoá .lensan / stop the embedded warehouse, remove .lensan"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements-lock.txt
	$(BIN)/python -m pip install --quiet -e . --no-deps
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lensan demo

# docker-compose (Debian's 1.29 package) only validates docker-compose.yml offline; no engine needed.
compose-check:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; \
	  else echo "docker-compose missing (apt-get install docker-compose); tests/test_compose.py will skip"; fi; }

# Headless Chromium + chromedriver (Debian's packages) for the portal's browser tests
# (tests/test_portal_browser.py, driven by Selenium); without them those tests skip, saying why.
browser-check:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium/chromedriver missing (apt-get install chromium chromium-driver); tests/test_portal_browser.py will skip"; fi; }

# $(call pytest,<args>): pytest, then its wall time as the last line, keeping pytest's exit status.
define pytest
	@echo "$(BIN)/python -m pytest $(1) $(PYTEST_ARGS)"
	@start=$$(date +%s); status=0; $(BIN)/python -m pytest $(1) $(PYTEST_ARGS) || status=$$?; \
	echo "total: $$(( $$(date +%s) - start )) s"; exit $$status
endef

test: $(STAMP) compose-check browser-check
	$(call pytest,--durations=15)

test-fast: $(STAMP) compose-check
	$(call pytest,-m unit)

test-integration: $(STAMP)
	$(call pytest,-m integration --durations=15)

test-e2e: $(STAMP)
	$(call pytest,-m e2e --durations=15)

# The portal's browser tests, writing their screenshots into docs/portal_preview/ (commit them after a UI change).
portal-preview: $(STAMP) browser-check
	UPDATE_PORTAL_PREVIEW=1 $(BIN)/python -m pytest tests/test_portal_browser.py -q -p no:cacheprovider

# The demo outputs of a fixed seed and week against tests/golden/demo_outputs.json (also in test-e2e);
# golden-record after an intended change of outputs.
golden: $(STAMP)
	$(BIN)/python -m lensan_dev.golden compare

golden-record: $(STAMP)
	$(BIN)/python -m lensan_dev.golden record

warehouse-stop:
	-$(BIN)/lensan warehouse stop

clean: warehouse-stop
	rm -rf .lensan
