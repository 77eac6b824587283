# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make demo   — install, run the nightly flow on data/sample, print where the reports are
#   make test   — install, run the test suite
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
DEMO_OUT ?= out/demo
AS_OF ?= 2026-11-24
BENCH_DIR ?= bench-data
BENCH_HOUSEHOLDS ?= 1300000
BENCH_COUNTIES ?= 100

.PHONY: install demo test lint bench bench-ingest sample clean

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

demo: install
	$(BIN)/fangpin run --inbox data/sample/inbox --config data/sample/fangpin.toml --as-of $(AS_OF) --out $(DEMO_OUT)

test: install
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check .

sample: install
	rm -rf data/sample/inbox
	$(BIN)/fangpin generate --out data/sample --households 2000 --seed 7 --as-of $(AS_OF)

# County figures (3,000 and 30,000 households) and the province end to end beside its floor; many
# minutes on 2 cores. bench-ingest: the in-process ingest measurement alone.
bench: install
	$(BIN)/python -m pipelines.bench --dir $(BENCH_DIR) --households $(BENCH_HOUSEHOLDS) --counties $(BENCH_COUNTIES)

bench-ingest: install
	$(BIN)/python -m pipelines.bench --dir $(BENCH_DIR) --households $(BENCH_HOUSEHOLDS) --counties $(BENCH_COUNTIES) --ingest-only

clean:
	rm -rf out $(VENV) $(TOOLS) .pytest_cache

# The nightly schedule (README "Run it every night"): `make server` in one terminal, `make serve` in another.
PREFECT_PORT ?= 4200
PREFECT_HOME ?= $(CURDIR)/out/prefect
INBOX ?= data/sample/inbox
CONFIG ?= data/sample/fangpin.toml
OUT ?= out/nightly

.PHONY: server serve

# The UI finds its API through PREFECT_UI_API_URL, which Prefect derives from PREFECT_SERVER_API_PORT,
# not from --port: both follow PREFECT_PORT, so the UI on any port talks to its own server.
server: install
	mkdir -p $(PREFECT_HOME)
	env -u PREFECT_API_URL PREFECT_HOME=$(PREFECT_HOME) PREFECT_SERVER_ANALYTICS_ENABLED=false \
	  PREFECT_SERVER_API_HOST=127.0.0.1 PREFECT_SERVER_API_PORT=$(PREFECT_PORT) \
	  PREFECT_UI_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api \
	  $(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

serve: install
	PREFECT_HOME=$(PREFECT_HOME) PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api $(BIN)/fangpin serve --inbox $(INBOX) --config $(CONFIG) --out $(OUT)
