# spatial-r1-eval — one-command setup, tests, demo.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=
# vLLM rollout checks run in a venv of their own: vLLM pins its own torch and transformers.
VLLM_VENV ?= .venv-vllm
VLLM_PIN  := vllm==0.33.0

.PHONY: setup system-deps test test-fast setup-vllm test-vllm lint format demo bench clean

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

# vLLM's own Qwen2.5-VL input processing (it runs on CPU) must rebuild the trainer's video inputs from our rollout
# requests: tests/test_trainer_vllm_video.py, which skips these checks where vLLM is not installed (as in .venv).
setup-vllm: system-deps
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q -e ".[gpu,dev]" $(VLLM_PIN)
	@$(VLLM_VENV)/bin/python -c "import vllm, transformers, torch; print('setup-vllm ok: vllm', vllm.__version__, '/ transformers', transformers.__version__, '/ torch', torch.__version__)"

test-vllm:
	$(VLLM_VENV)/bin/python -m pytest -q -rs tests/test_trainer_vllm_video.py $(PYTEST_ARGS)

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
