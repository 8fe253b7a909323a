# spatial-r1-eval — one-command setup, tests, demo.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The environment is locked: requirements/main.lock (.venv) and requirements/vllm.lock (.venv-vllm), every package
# pinned with its hashes, resolved by uv from pyproject.toml + requirements/{main,vllm}.in (make lock).
PIP_PIN  := pip==26.3
UV_PIN   := uv==0.13.9
LOCK_VENV ?= .venv-lock
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_36 --quiet
LATEST_VENV ?= .venv-latest
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=
# vLLM rollout checks run in a venv of their own: vLLM pins its own torch and transformers.
VLLM_VENV ?= .venv-vllm
# VLLM_PIN empty: install requirements/vllm.lock (vLLM 0.33.0). VLLM_PIN=vllm==0.31.0: that release, unlocked.
VLLM_PIN  ?=

.PHONY: setup system-deps test test-fast test-toy setup-vllm test-vllm test-latest lock lint format demo bench clean

setup: system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(PIP_PIN)
	$(PIP) install -q --require-hashes -r requirements/main.lock
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(PIP) check
	$(PY) requirements/verify.py check requirements/main.lock
	@# the stack must run, not just import: one real lmms-eval evaluation, a tiny model forward, TRL's hooks
	$(PY) -m spatial_r1_eval.commands.stack_check

# Re-resolve both locks with uv (pinned in a small venv of its own). uv keeps every version of the current lock that
# still satisfies the inputs, so a lock changes only where pyproject.toml or a .in file asks for it. To move a
# package on purpose: `make lock UPGRADE="--upgrade-package NAME"`.
UPGRADE ?=
lock:
	test -x $(LOCK_VENV)/bin/uv || ($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/python -m pip install -q $(UV_PIN))
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml requirements/main.in --extra test --extra dev $(LOCK_FLAGS) $(UPGRADE) -o requirements/main.lock
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml requirements/vllm.in --extra gpu --extra test --extra dev $(LOCK_FLAGS) $(UPGRADE) -o requirements/vllm.lock
	$(PYTHON) requirements/verify.py stamp requirements/main.lock
	$(PYTHON) requirements/verify.py stamp requirements/vllm.lock

# Drift canary: a throwaway venv with the newest versions pyproject.toml allows (no lock), then the fast tests.
# It prints which packages moved away from the lock first, so a failure names its suspects. CI keeps the lock.
test-latest: system-deps
	rm -rf $(LATEST_VENV) && $(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install -q $(PIP_PIN)
	$(LATEST_VENV)/bin/python -m pip install -q -e ".[test,dev]"
	@echo "== packages at another version than requirements/main.lock (lock -> newest allowed):"
	@$(LATEST_VENV)/bin/python requirements/verify.py moved requirements/main.lock
	$(LATEST_VENV)/bin/python -m spatial_r1_eval.commands.stack_check
	$(LATEST_VENV)/bin/python -m pytest -q -n 2 --dist loadfile -m "not slow" $(PYTEST_ARGS)

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
	$(VLLM_VENV)/bin/python -m pip install -q $(PIP_PIN)
	if [ -z "$(VLLM_PIN)" ]; then $(VLLM_VENV)/bin/python -m pip install -q --require-hashes -r requirements/vllm.lock; \
	else $(VLLM_VENV)/bin/python -m pip install -q -e ".[gpu,test,dev]" $(VLLM_PIN); fi
	$(VLLM_VENV)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	$(VLLM_VENV)/bin/python -m pip check
	if [ -z "$(VLLM_PIN)" ]; then $(VLLM_VENV)/bin/python requirements/verify.py check requirements/vllm.lock; fi
	@$(VLLM_VENV)/bin/python -c "import vllm, transformers, torch; print('setup-vllm ok: vllm', vllm.__version__, '/ transformers', transformers.__version__, '/ torch', torch.__version__)"

test-vllm:
	$(VLLM_VENV)/bin/python -m pytest -q -rs tests/test_trainer_vllm_video.py tests/test_environment_lock.py $(PYTEST_ARGS)

# The toy GRPO learning runs (tests/test_trainer_learning.py, marked toy): about 15 min here, so not in make test.
test-toy:
	$(PY) -m pytest -q --run-toy -m toy tests/test_trainer_learning.py $(PYTEST_ARGS)

test-fast:
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) tools/lint_imports.py

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

demo:
	$(VENV)/bin/spatial-r1 demo --out $(DEMO_OUT)

bench:
	$(PY) benchmarks/metrics.py

clean:
	rm -rf build *.egg-info $(DEMO_OUT) $(LATEST_VENV) $(LOCK_VENV)
