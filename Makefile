# The two commands of the README: `make demo` (the main job) and `make test` (the suite).
# Each bootstraps .venv with pip when it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch is installed first and pinned exactly: this version is the local CPU wheel; anything
# looser pulls the newest CUDA build (GBs).
TORCH := torch==2.13.0

.PHONY: test test-slow demo lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "error: $(PYTHON) is older than Python 3.11; run with PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Until the learners land, the main job validates the shipped assets and measures the default
# task's environment at the training batch size against bare physics.
demo: $(STAMP)
	$(BIN)/sim2real tasks
	$(BIN)/sim2real validate assets/robots/*/robot.yaml
	$(BIN)/sim2real bench env --task cartpole_balance --num-envs 1024

bench: $(STAMP)
	$(BIN)/sim2real bench env --task cartpole_balance --num-envs 1024 --json
	$(BIN)/sim2real bench env --task cartpole_swingup --num-envs 1024 --json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
