# spatial-r1-eval — one-command setup, tests, demo.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=

.PHONY: setup system-deps test test-fast lint format demo bench clean

setup: system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH_PINS)
	$(PIP) install -q -e ".[dev]" $(TORCH_PINS)
	@$(PY) -c "import spatial_r1_eval, open3d, lmms_eval, trl; print('setup ok:', spatial_r1_eval.__version__)"

# open3d needs libusb-1.0; install it through apt only when we are root and it is missing.
# chromium (optional) serves the leaderboard's headless screenshot test.
system-deps:
	@if ldconfig -p 2>/dev/null | grep -q libusb-1.0.so.0; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q libusb-1.0-0 >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q libusb-1.0-0 >/dev/null); \
	else echo "warning: libusb-1.0-0 is missing and we are not root: install it (sudo apt-get install libusb-1.0-0) for open3d"; fi
	@# Optional: headless Chromium for the leaderboard HTML screenshot test (skipped with a reason without it).
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1) || echo "note: chromium not installed (HTML screenshot test will skip)"; \
	fi

test:
	$(PY) -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

test-fast:
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

demo:
	$(VENV)/bin/spatial-r1 demo --out $(DEMO_OUT)

bench:
	$(PY) benchmarks/metrics.py

clean:
	rm -rf build *.egg-info $(DEMO_OUT)
