.PHONY: run test lint
run:   ## install, create the SQLite demo database and start the app on http://127.0.0.1:5000/
	scripts/run-demo.sh
test:  ## install dev dependencies and run the whole test suite
	scripts/test.sh
lint:
	.venv/bin/ruff check app tests bench wsgi.py
