# Fairshare — developer commands. `make demo` and `make test` are the Quick start.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp
# PostgreSQL used by the second pass of `make test` (its test database is test_<name>).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/fairshare
export FAIRSHARE_DATA_DIR ?= $(CURDIR)/var

.PHONY: install demo serve test test-sqlite test-postgres lint format bench bench-smoke faults clean \
	cluster cluster-stop cluster-status

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	@$(BIN)/fairshare compile_translations -v0

demo: install
	$(BIN)/fairshare demo --port $(PORT)

# Whole suite: SQLite pass, then PostgreSQL pass (row-lock concurrency tests run there).
# A missing PostgreSQL fails the run; set FAIRSHARE_SKIP_POSTGRES=1 to opt out explicitly.
test: install
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	FAIRSHARE_DATA_DIR=$(CURDIR)/var/test DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	@if [ "$${FAIRSHARE_SKIP_POSTGRES:-}" = "1" ] && [ "$${CI:-}" != "true" ]; then \
	  echo "!! FAIRSHARE_SKIP_POSTGRES=1: the PostgreSQL pass was NOT run"; exit 0; fi; \
	$(BIN)/python scripts/wait_for_postgres.py "$(PG_TEST_URL)" && \
	FAIRSHARE_DATA_DIR=$(CURDIR)/var/test-pg DATABASE_URL=$(PG_TEST_URL) FAIRSHARE_REQUIRE_POSTGRES=1 \
	  $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/lint-imports  # layers and no cycles: [tool.importlinter] in pyproject.toml
	$(BIN)/mypy  # types: [tool.mypy] in pyproject.toml (strict for core, services, selectors)
	$(BIN)/python scripts/check_sizes.py src  # modules <= 450 lines, functions <= 60

format: install
	$(BIN)/ruff check --fix src tests scripts bench
	$(BIN)/ruff format src tests scripts bench

clean:
	rm -rf var build *.egg-info src/*.egg-info

# --- bench (issue 8): see BENCHMARKS.md. PostgreSQL when DATABASE_URL is set (its name must
# contain "bench"; it is dropped and re-created), SQLite in var/bench otherwise.
# BENCH_ARGS=--large for the 500,000-household district. BENCH_DBS=sqlite,postgres runs
# both databases in one invocation (PostgreSQL at BENCH_PG_URL) and prints issue 17's wrk
# table side by side; the harness installs Debian's wrk with apt-get when it is missing.
# CLUSTER=1: the registration steps through `make cluster`'s balancer (PostgreSQL only).
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/fairshare_bench
BENCH_DBS_ARGS = $(if $(BENCH_DBS),--dbs $(BENCH_DBS) --pg-url $(BENCH_PG_URL))
bench: install
	$(BIN)/python bench/run.py $(BENCH_DBS_ARGS) $(if $(filter 1,$(CLUSTER)),--cluster) $(BENCH_ARGS)

# Seconds-long: harness + invariant checks on a tiny dataset; never asserts a timing.
bench-smoke: install
	$(BIN)/python bench/run.py --smoke --data-dir $(CURDIR)/var/bench-smoke \
	  --results-dir $(CURDIR)/var/bench-smoke-results --port 8112 $(BENCH_DBS_ARGS) $(BENCH_ARGS)

# Fault injection (kill -9, PostgreSQL outage on a private server on a free port, failing
# SMS gateway). Not part of `make test` (pyproject's addopts deselect the `faults` marker);
# CI runs it after `make test`.
faults: install
	FAIRSHARE_DATA_DIR=$(CURDIR)/var/test-faults DATABASE_URL= $(BIN)/pytest -m faults tests/faults $(PYTEST_ARGS)

# --- several nodes (issue 17; docs/deploy.md "Several nodes"): NODES app nodes behind
# HAProxy on CLUSTER_PORT, PgBouncer (transaction pooling) in front of the PostgreSQL of
# CLUSTER_DATABASE_URL, Redis on 127.0.0.1:6379. Installs haproxy and pgbouncer (apt-get)
# when missing. Run folder: var/cluster (keys.env, rendered configs, logs, state.json).
NODES ?= 2
CLUSTER_PORT ?= 8080
CLUSTER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/fairshare_cluster
cluster: install
	$(BIN)/python scripts/cluster.py start --nodes $(NODES) --port $(CLUSTER_PORT) \
	  --database-url $(CLUSTER_DATABASE_URL) $(CLUSTER_ARGS)

cluster-stop:
	$(BIN)/python scripts/cluster.py stop

cluster-status:
	$(BIN)/python scripts/cluster.py status
