# The two commands of the README: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_TRANSACTIONS ?= 1000000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help java browser install metastore demo test test-cluster lint bench-build clean

help:
	@echo "make demo   set up, generate ~$(DEMO_TRANSACTIONS) transactions, dbt build, summary"
	@echo "make test   set up and run the test suite"
	@echo "make test-cluster  the same pipeline on a 2-worker Spark cluster vs local"
	@echo "make lint   ruff and sqlfluff"
	@echo "make metastore  PostgreSQL-backed shared metastore (then FRONTIER_METASTORE=postgres)"

# Spark 4 needs Java 17+, and the predict functions' Hive UDF (python/udfs/jvm) is compiled with
# javac on first use. On Debian, install the headless JDK when java or javac is missing.
java:
	@if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then \
		if command -v apt-get >/dev/null 2>&1; then \
			echo "java/javac not found: installing openjdk-17-jdk-headless"; \
			$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q openjdk-17-jdk-headless; \
		else \
			echo "a Java 17+ JDK (java and javac) is required: install one and put it on PATH"; exit 1; \
		fi; \
	fi
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	if [ "$${v:-0}" -lt 17 ]; then echo "Java $$v found; Spark 4 needs 17 or newer"; exit 1; fi

# The dashboard's browser test drives Debian's headless Chromium (no browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		if command -v apt-get >/dev/null 2>&1; then \
			echo "chromium not found: installing chromium chromium-driver"; \
			$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium chromium-driver; \
		else \
			echo "the browser test needs chromium and chromedriver on PATH"; exit 1; \
		fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: java $(STAMP)
	@$(BIN)/frontier init

# Shared metastore mode: PostgreSQL server, JDBC driver, role and database (FRONTIER_PG_*).
metastore:
	scripts/setup-postgres-metastore.sh

demo: install
	$(BIN)/frontier demo --transactions $(DEMO_TRANSACTIONS)

test: install browser
	$(BIN)/pytest

# generate + build + train on a 2-worker standalone cluster vs local[2] (about 10 minutes).
test-cluster: install
	$(BIN)/pytest -m cluster

lint: install
	$(BIN)/ruff check python tests
	$(BIN)/ruff format --check python tests
	$(BIN)/sqlfluff lint models
	$(BIN)/sqlfluff lint --config conf/sqlfluff-berka.cfg models/staging/berka models/intermediate/berka

bench-build: install
	$(BIN)/frontier bench build --transactions $(DEMO_TRANSACTIONS)

clean:
	rm -rf .warehouse .warehouse-bench target logs
