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

$(STAMP): pyproject.toml runtime/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "error: $(PYTHON) is older than Python 3.11; run with PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ./runtime -e ".[dev,menagerie,ros]"
	@touch $(STAMP)

# Two pytest workers: most of the suite's time is XLA compiling one module at a time on one core.
# loadscope keeps a module's tests (and its compiled fixtures) on one worker.
PYTEST_WORKERS ?= 2

# The fast suite compiles without XLA's backend optimizations: its tiny batches run for seconds while XLA
# compiles for minutes (a quarter less compile time; the heaviest MJX tests 10-15% faster in all). Not for
# test-slow: optimized code steps the quadruped 2.9x faster, which the long learning runs need.
FAST_XLA_FLAGS := --xla_backend_optimization_level=0

test: $(STAMP)
	$(BIN)/ruff check .
	XLA_FLAGS="$$XLA_FLAGS $(FAST_XLA_FLAGS)" $(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS) \
		--dist loadscope --durations=15

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The main job: validate the shipped assets, train the default task with FastTD3 (GPU if present,
# CPU otherwise; a fresh run each time, stopped at its goal), evaluate it, export it to ONNX, run the
# exported policy in MuJoCo C through the deployment runtime (sim2sim), then render its video and plot its
# learning curves. Last, the shipped quadruped policy walks the 17 s `tour` command schedule through the
# same runtime.
DEMO_RUN := runs/demo-cartpole_balance-fasttd3
DEMO_QUADRUPED := assets/policies/quadruped_joystick_flat.onnx
DEMO_WALK := runs/demo-quadruped/walk.mp4
demo: $(STAMP)
	$(BIN)/sim2real validate assets/robots/*/robot.yaml
	rm -rf $(DEMO_RUN)
	$(BIN)/sim2real train --task cartpole_balance --algo fasttd3 --run-dir $(DEMO_RUN) --until-goal
	$(BIN)/sim2real eval $(DEMO_RUN) --episodes 16
	$(BIN)/sim2real export $(DEMO_RUN) --out $(DEMO_RUN)/policy.onnx
	$(BIN)/sim2real inspect $(DEMO_RUN)/policy.onnx
	$(BIN)/sim2real sim2sim --policy $(DEMO_RUN)/policy.onnx --episodes 16
	$(BIN)/sim2real rollout --policy $(DEMO_RUN)/policy.onnx --engine mujoco --video $(DEMO_RUN)/rollout.mp4
	$(BIN)/sim2real plot $(DEMO_RUN) --out $(DEMO_RUN)/learning_curves.png
	mkdir -p $(dir $(DEMO_WALK))
	$(BIN)/sim2real rollout --policy $(DEMO_QUADRUPED) --engine mujoco --command-schedule tour --seconds 17 \
		--num-envs 1 --camera track --width 960 --height 540 --fps 25 --video $(DEMO_WALK)
	@echo "demo video: $(DEMO_RUN)/rollout.mp4"
	@echo "learning curves: $(DEMO_RUN)/learning_curves.png"
	@echo "walking video: $(DEMO_WALK)"

bench: $(STAMP)
	$(BIN)/sim2real bench env --task cartpole_balance --num-envs 1024 --json
	$(BIN)/sim2real bench env --task cartpole_swingup --num-envs 1024 --json
	$(BIN)/sim2real bench env --robot quadruped humanoid arm --worlds 256 1024 4096 --calls 5 --rounds 2 --json
	$(BIN)/sim2real bench learn --task cartpole_balance --json
	$(BIN)/sim2real bench export --json
	$(BIN)/sim2real bench env --task quadruped_joystick_flat quadruped_joystick_rough humanoid_joystick_flat \
		humanoid_joystick_rough arm_reach --num-envs 256 1024 4096 --steps 100 --rounds 4 --json
	$(BIN)/sim2real bench bridge --json
	$(BIN)/sim2real bench scale --json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
