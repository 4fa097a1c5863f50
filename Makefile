.PHONY: run test test-fast lint cluster
run:   ## install, create the SQLite demo database and start the app on http://127.0.0.1:5000/
	scripts/run-demo.sh
test:  ## install dev dependencies and run the whole test suite
	scripts/test.sh
cluster:  ## nginx in front of app processes on PostgreSQL and Redis: see README, "Production"
	scripts/bootstrap.sh
	.venv/bin/python deploy/cluster.py
test-fast:  ## the service layer, HTTP and in-process sockets (no browser, no server process): under a minute
	scripts/test.sh -m "not browser and not live and not slow and not fault"
lint:
	.venv/bin/ruff check app tests bench deploy wsgi.py
