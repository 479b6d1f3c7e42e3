#!/usr/bin/env bash
# `sim2real bench gpu` on a bare CUDA machine in one prepared step, within 9 minutes.
#
# The machine needs Python 3.12 with jax[cuda], torch and onnxruntime (as this project's device image has);
# everything else comes as wheels from .whl/ (scripts/fetch_device_wheels.sh, run where PyPI is reachable),
# installed without an index or dependency resolution into $SITE. This repo's packages import from its root.
# The JAX compilation cache and torch.compile's cache live in .cache/ (git-ignored), so a second call on the
# same machine skips most compiling. Extra arguments go to `bench gpu` (e.g. --only learn).
#
#   OUT=/tmp/bench scripts/device_run.sh                 # figures in $OUT/gpu_bench.{json,md}, log beside
#   BUDGET_S=300 scripts/device_run.sh --only env updates
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
OUT="${OUT:-runs/bench-gpu}"
SITE="${SITE:-/tmp/site}"
BUDGET_S="${BUDGET_S:-420}"
# A hard stop (SIGINT, then SIGKILL 20 s later) past the budget: rows are never cut short, so one may overrun;
# the report is rewritten after every row, so what was measured stays on disk either way.
HARD_LIMIT_S="${HARD_LIMIT_S:-$((BUDGET_S + 80))}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
  echo "device_run.sh: the wheels in .whl/ are for Python 3.12; $PYTHON is $("$PYTHON" -V 2>&1)" >&2
  exit 2
fi
shopt -s nullglob
wheels=(.whl/*.whl)
if [ ${#wheels[@]} -eq 0 ]; then
  echo "device_run.sh: no wheels in .whl/; run scripts/fetch_device_wheels.sh first (and bring .whl/ along)" >&2
  exit 2
fi

started=$(date +%s)
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-index --no-deps --upgrade --target "$SITE" \
  "${wheels[@]}"
export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export SIM2REAL_JAX_CACHE="${SIM2REAL_JAX_CACHE:-$PWD/.cache/jax-device}"
export JAX_COMPILATION_CACHE_DIR="$SIM2REAL_JAX_CACHE"
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
export TORCHINDUCTOR_CACHE_DIR="${TORCHINDUCTOR_CACHE_DIR:-$PWD/.cache/torchinductor}"
export XLA_PYTHON_CLIENT_PREALLOCATE=false
echo "installed ${#wheels[@]} wheels into $SITE in $(($(date +%s) - started)) s"

mkdir -p "$OUT"
status=0
timeout --signal=INT --kill-after=20 "$HARD_LIMIT_S" \
  "$PYTHON" -m sim2real bench gpu --out "$OUT" --budget-s "$BUDGET_S" "$@" 2>&1 | tee "$OUT/bench_gpu.log" \
  || status=$?
echo "device_run.sh: done in $(($(date +%s) - started)) s (exit $status); report in $OUT"
exit "$status"
