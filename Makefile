.PHONY: run test test-fast lint cluster
# Tests run in parallel processes (pytest-xdist). The live and browser tests mostly wait on
# servers and Chromium, so the whole suite runs more processes than cores; the fast tier is
# CPU-bound and runs one per core. Override with e.g. `make test TEST_WORKERS=1`.
TEST_WORKERS ?= 3
FAST_WORKERS ?= auto
run:   ## install, create the SQLite demo database and start the app on http://127.0.0.1:5000/
	scripts/run-demo.sh
test:  ## install dev dependencies and run the whole test suite (then the `alone` tests, one at a time)
	scripts/test.sh -n $(TEST_WORKERS) --dist loadgroup -m "not alone"; parallel=$$?; \
	scripts/test.sh -m alone; alone=$$?; [ $$parallel = 0 ] && [ $$alone = 0 ]
cluster:  ## nginx in front of app processes on PostgreSQL and Redis: see README, "Production"
	scripts/bootstrap.sh
	.venv/bin/python deploy/cluster.py
test-fast:  ## the service layer, HTTP and in-process sockets (no browser, no server process): under a minute
	scripts/test.sh -n $(FAST_WORKERS) -m "not browser and not live and not slow and not fault"
lint:
	.venv/bin/ruff check app tests bench deploy wsgi.py
