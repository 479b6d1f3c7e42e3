"""A maker's MJCF, adapted into the model every engine of the stack runs (MJX and MuJoCo C alike).

:func:`adapt_model` reads the MJCF into an ``MjSpec`` and, in order:

1. turns the joint table's servos into the torque motors the robot YAML's PD law drives (:mod:`sim.actuators`);
2. gives a floating-base model without ground the project's floor (:mod:`sim.ground`);
3. applies an optional edit of the ground (a terrain replacing it);
4. turns self-collision off where the robot YAML asks (``self_collision: false``);
5. adapts what MJX cannot simulate, or refuses it (:mod:`sim.mjx_limits`).

It returns the compiled model with one note per change. Every place that builds a robot's model from its
MJCF (loading, terrains) goes through here, so MJX training, sim2sim, preview, rollouts and the ROS
emulator all run the same physics. Adaptations that change physics are said once per process on stderr;
``sim2real inspect robot`` lists every note.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import mujoco

from sim.actuators import is_servo, make_motor
from sim.ground import FLOOR_GEOM, add_floor, find_ground, has_free_base
from sim.mjx_limits import apply_mjx_fixes, exclude_bodies, mjx_fixes, self_colliding_bodies
from sim2real_runtime.errors import ConfigError, Problem

GroundEdit = Callable[[mujoco.MjSpec, str | None], object]
"""A change to a spec's ground, given its name (None without one): a terrain replacing it."""

_SAID: set[str] = set()
"""Adaptation notes already printed in this process."""


@dataclass(frozen=True)
class AdaptedModel:
    """The model the stack runs for a robot, and what was changed to get it from the MJCF."""

    model: mujoco.MjModel
    """The compiled, adapted model (timestep as written in the MJCF)."""
    notes: tuple[str, ...]
    """One line per conversion, addition or adaptation."""
    ground: str | None
    """Name of the ground geom (None for a fixed-base model without one)."""


def _cannot_compile(exc: ValueError, yaml_path: Path, mjcf_path: Path) -> ConfigError:
    """MuJoCo's error, on one line, naming the robot YAML's ``mjcf`` field."""
    message = " | ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or "compile error"
    return ConfigError.single(yaml_path, "mjcf", f"MuJoCo cannot compile {mjcf_path.name}: {message}")


def compile_spec(spec: mujoco.MjSpec, yaml_path: Path, mjcf_path: Path) -> mujoco.MjModel:
    """Compile ``spec``; a MuJoCo error becomes a :class:`ConfigError` naming the robot YAML's ``mjcf`` field."""
    try:
        return spec.compile()
    except ValueError as exc:
        raise _cannot_compile(exc, yaml_path, mjcf_path) from None


def read_mjcf(yaml_path: Path, mjcf_path: Path) -> tuple[mujoco.MjSpec, mujoco.MjModel]:
    """The MJCF as a spec and as compiled, unchanged; errors name the robot YAML's ``mjcf`` field."""
    try:
        spec = mujoco.MjSpec.from_file(str(mjcf_path))
    except ValueError as exc:
        raise _cannot_compile(exc, yaml_path, mjcf_path) from None
    return spec, compile_spec(spec, yaml_path, mjcf_path)


def _servos_to_motors(spec: mujoco.MjSpec, model: mujoco.MjModel, effort_limits: Mapping[int, float]) -> list[str]:
    """Make each servo among ``effort_limits``' actuators a motor of that limit; one note per servo."""
    actuators = {a.id: a for a in spec.actuators}
    notes = []
    for aid, effort in sorted(effort_limits.items()):
        if not is_servo(model, aid):
            continue
        make_motor(actuators[aid], effort)
        name = model.actuator(aid).name or f"#{aid}"
        notes.append(
            f"actuator '{name}' (a servo on joint '{model.joint(int(model.actuator_trnid[aid, 0])).name}') became "
            f"a torque motor (+-{effort:g}) driven by the robot YAML's PD law"
        )
    return notes


def _ground(spec: mujoco.MjSpec, model: mujoco.MjModel) -> tuple[str | None, list[str]]:
    """The ground's name, adding the project's floor to a floating-base model without one; the note."""
    geom = find_ground(model)
    if geom is not None:
        name = model.geom(geom).name
        if not name:
            return None, ["the MJCF's ground is an unnamed geom: name it to randomize its friction or lay terrain"]
        kind = "height field" if model.geom_type[geom] == mujoco.mjtGeom.mjGEOM_HFIELD else "plane"
        return name, [] if name == FLOOR_GEOM else [f"ground: the MJCF's {kind} '{name}'"]
    if not has_free_base(model):
        return None, ["no ground in the MJCF; none added (fixed base)"]
    add_floor(spec)
    return FLOOR_GEOM, [f"no ground in the MJCF: added the project's floor (a plane at z = 0 named '{FLOOR_GEOM}')"]


def _say_once(mjcf_path: Path, notes: list[str]) -> None:
    """Print each note on stderr the first time this process meets it."""
    for note in notes:
        line = f"sim2real: {mjcf_path}: {note}"
        if line not in _SAID:
            _SAID.add(line)
            print(line, file=sys.stderr, flush=True)


def adapt_model(
    yaml_path: Path,
    mjcf_path: Path,
    effort_limits: Mapping[int, float],
    edit: GroundEdit | None = None,
    read: tuple[mujoco.MjSpec, mujoco.MjModel] | None = None,
    self_collision: bool = True,
) -> AdaptedModel:
    """The robot's model as the stack runs it (see the module docstring); refusals raise :class:`ConfigError`.

    ``effort_limits`` maps the joint table's actuator ids to their joints' effort limits; ``read`` is the
    MJCF as :func:`read_mjcf` returned it, when the caller has it already (it is changed in place);
    ``self_collision`` false excludes every pair of the robot's bodies whose geoms could touch.
    """
    spec, model = read or read_mjcf(yaml_path, mjcf_path)
    notes = _servos_to_motors(spec, model, effort_limits)
    had_ground = find_ground(model) is not None
    ground, ground_notes = _ground(spec, model)
    if edit is not None:
        edit(spec, ground)
    if notes or edit is not None or (ground is not None and not had_ground):
        model = compile_spec(spec, yaml_path, mjcf_path)
    notes += ground_notes
    touching = set() if self_collision else self_colliding_bodies(model)
    if touching:
        notes.append(f"self-collision off (the robot YAML's self_collision: false): {exclude_bodies(spec, touching)}")
        model = compile_spec(spec, yaml_path, mjcf_path)
    fixes = mjx_fixes(model)
    if fixes.refusals:
        raise ConfigError([Problem(str(mjcf_path), where, why) for where, why in fixes.refusals.items()])
    if fixes:
        mjx_notes = apply_mjx_fixes(spec, model, fixes)
        _say_once(mjcf_path, mjx_notes)
        notes += mjx_notes
        model = compile_spec(spec, yaml_path, mjcf_path)
    return AdaptedModel(model=model, notes=tuple(notes), ground=ground)
