# Every target bootstraps its own virtualenv (.venv) from requirements.txt.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost

.PHONY: venv lint test test-fast test-slow bench bench-webhook bench-limits demo demo-stop clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -m "not slow" --durations=15

# The pure logic only (tests marked fast): no simulators, database, Prefect API or SMTP; seconds.
test-fast: venv
	$(PY) -m pytest -m fast -q -p no:cacheprovider

# The minutes-long end-to-end suites (crash/resume, deploy to a real server, secret scan); CI runs both.
test-slow: venv
	$(PY) -m pytest -m slow --durations=10

bench: venv
	$(PY) -m benchmarks.run

# Agency upload → DAM asset through the Box webhook (50 uploads over a minute) vs the poll.
bench-webhook: venv
	$(PY) -m benchmarks.webhook

# The flows against Box's rate limits (simulator enforcing them) with the shared budget: a few minutes.
bench-limits: venv
	$(PY) -m benchmarks.limits

demo: venv
	$(PY) -m deployments.demo

demo-stop: venv
	$(PY) -m deployments.demo stop

clean:
	rm -rf .demo .pytest_cache .test-artifacts
