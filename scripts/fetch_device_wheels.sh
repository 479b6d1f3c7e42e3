#!/usr/bin/env bash
# Download the cp312 wheels a bare CUDA machine lacks for `sim2real bench gpu` into .whl/ (git-ignored).
#
# The target has Python 3.12 with jax[cuda], torch and onnxruntime (and flax, optax, scipy, etils, ...), but
# not MuJoCo, MJX, Brax or this stack's own pure-python needs. scripts/device_run.sh installs these wheels
# there with `pip install --no-index --no-deps`, so every dependency the target lacks is named below.
# Versions are the ones .venv holds (pyproject.toml's pins); bump them together.
#
#   scripts/fetch_device_wheels.sh          # once, on a machine that reaches PyPI
set -euo pipefail
cd "$(dirname "$0")/.."

PIP="${PIP:-.venv/bin/pip}"
WHEELS=(
  # MuJoCo and its runtime needs (the renderer's pieces are imported by `import mujoco`).
  mujoco==4.0.0 mujoco-core==4.0.0 mujoco-studio==4.0.0 glfw==2.11.0 pyopengl==3.1.10 websockets==17.4
  # MJX and Brax (brax.envs.base is the env contract) with what they import that the target lacks.
  mujoco-mjx==3.17.0 trimesh==5.2.0 brax==0.14.2 jaxopt==0.8.5 ml-collections==1.1.0 tensorboardx==2.6.5
  flask==3.1.3 flask-cors==6.0.5 blinker==1.9.0 itsdangerous==2.2.0
  # This stack's typed configs and command line.
  pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
  tyro==1.0.17 docstring-parser==0.18.0 typeguard==4.6.1
)

mkdir -p .whl
"$PIP" download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "${WHEELS[@]}"
echo "fetched ${#WHEELS[@]} wheels into .whl/ ($(du -sh .whl | cut -f1))"
