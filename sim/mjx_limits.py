"""What MJX (``impl="jax"``) cannot simulate, adapted where the physics barely changes and refused otherwise.

The checks are the ones ``mjx.put_model`` and ``mjx.make_data`` raise on, run over the same collision
pairs (``mujoco.mjx._src.collision_driver.geom_pairs``), so they are found before a task is built:

- **condim 1 under elliptic cones** (frictionless contacts MJX does not implement): a pair of robot geoms
  that would touch with condim 1 gets condim 3 on the geom(s) deciding it, i.e. self-contacts gain friction;
  a frictionless contact with the world is refused (the ground's friction would change).
- **geom pairs without an MJX collision function**: between two robot parts (self-collision, e.g. a
  cylinder and a box), contacts between those two bodies are turned off; with the world (a box, a height
  field), a cylinder becomes a capsule of the same radius and length (a sphere of its radius when it is no
  longer than wide), its body's mass and inertia kept; any other shape touching the world is refused.
- **margin on mesh and height-field pairs**: margins up to :data:`MARGIN_TOLERANCE` become 0; larger
  ones are refused.

The same adapted model then runs in MuJoCo C too, so sim2sim compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np
from mujoco.mjx._src import collision_driver  # no public API lists MJX's collision pairs (sim/__init__ imports MJX)

from sim.mjx_import import mjx
from sim2real_runtime.errors import ConfigError

MARGIN_TOLERANCE = 0.005
"""Largest contact margin (m) on a mesh or height-field pair that is set to 0 rather than refused."""
_CYLINDER = int(mujoco.mjtGeom.mjGEOM_CYLINDER)
_CAPSULE = int(mujoco.mjtGeom.mjGEOM_CAPSULE)
_NO_MARGIN = {int(mujoco.mjtGeom.mjGEOM_MESH), int(mujoco.mjtGeom.mjGEOM_HFIELD)}


@dataclass
class MjxFixes:
    """The changes that make a model simulable by MJX, and what cannot be made so."""

    capsules: set[int] = field(default_factory=set)
    """Cylinder geoms to collide as capsules."""
    excluded: set[tuple[int, int]] = field(default_factory=set)
    """Body pairs whose contacts are turned off."""
    no_margin: set[int] = field(default_factory=set)
    """Geoms whose margin and gap become 0."""
    condim3: set[int] = field(default_factory=set)
    """Geoms whose condim 1 becomes 3."""
    pair_fixes: set[int] = field(default_factory=set)
    """Explicit pairs whose condim 1 becomes 3 and margin 0."""
    refusals: dict[str, str] = field(default_factory=dict)
    """Field (``geom 'name'`` or ``option cone``) -> what is wrong and the fix."""

    def __bool__(self) -> bool:
        return bool(self.capsules or self.excluded or self.no_margin or self.condim3 or self.pair_fixes)


def geom_label(model: mujoco.MjModel, geom: int) -> str:
    """``geom 'name'``, or ``geom #id of body 'name'`` for an unnamed geom."""
    name = model.geom(geom).name
    return f"geom '{name}'" if name else f"geom #{geom} of body '{model.body(int(model.geom_bodyid[geom])).name}'"


def _type_name(model: mujoco.MjModel, geom: int) -> str:
    """The geom's type in MJCF words (``cylinder``, ``hfield``)."""
    return mujoco.mjtGeom(int(model.geom_type[geom])).name.removeprefix("mjGEOM_").lower()


def _static(model: mujoco.MjModel, geom: int) -> bool:
    """Whether the geom is part of the world (its body welded to the world body)."""
    return int(model.body_weldid[model.geom_bodyid[geom]]) == 0


def _condim(model: mujoco.MjModel, g1: int, g2: int, pair: int) -> tuple[int, list[int]]:
    """The contact dimension of a pair and the geoms that decide it (MuJoCo's priority rule)."""
    if pair >= 0:
        return int(model.pair_dim[pair]), []
    p1, p2 = model.geom_priority[g1], model.geom_priority[g2]
    deciding = [g1] if p1 > p2 else [g2] if p2 > p1 else [g1, g2]
    condim = max(int(model.geom_condim[g]) for g in deciding)
    return condim, [g for g in deciding if model.geom_condim[g] == 1]


def _unsupported_pair(model: mujoco.MjModel, fixes: MjxFixes, g1: int, g2: int) -> bool:
    """Fix or refuse a pair without an MJX collision function; True when it stays in the model."""
    if not (_static(model, g1) or _static(model, g2)):
        bodies = sorted(int(model.geom_bodyid[g]) for g in (g1, g2))
        fixes.excluded.add((bodies[0], bodies[1]))
        return False
    types = [int(model.geom_type[g]) for g in (g1, g2)]
    as_capsules = sorted(_CAPSULE if t == _CYLINDER else t for t in types)
    if _CYLINDER in types and collision_driver.has_collision_fn(*as_capsules):
        fixes.capsules.update(g for g, t in zip((g1, g2), types, strict=True) if t == _CYLINDER)
        return True
    label = geom_label(model, g2 if _static(model, g1) else g1)
    fixes.refusals[label] = (
        f"MJX cannot collide {_type_name(model, g1)} with {_type_name(model, g2)} geoms "
        f"({geom_label(model, g1)}, {geom_label(model, g2)}); make it a sphere, capsule or box in the MJCF"
    )
    return False


def mjx_fixes(model: mujoco.MjModel) -> MjxFixes:
    """Find what MJX cannot simulate in ``model`` and how to adapt it (see the module docstring)."""
    fixes = MjxFixes()
    elliptic = int(model.opt.cone) == int(mujoco.mjtCone.mjCONE_ELLIPTIC)
    for g1, g2, pair in collision_driver.geom_pairs(model):
        g1, g2, pair = int(g1), int(g2), int(pair)
        types = sorted((int(model.geom_type[g1]), int(model.geom_type[g2])))
        if not collision_driver.has_collision_fn(*types) and not _unsupported_pair(model, fixes, g1, g2):
            continue
        margin = float(model.pair_margin[pair]) if pair >= 0 else float(model.geom_margin[[g1, g2]].sum())
        if _NO_MARGIN.intersection(types) and margin > 0.0:
            if margin > MARGIN_TOLERANCE:
                wide, other = (g1, g2) if model.geom_margin[g1] >= model.geom_margin[g2] else (g2, g1)
                fixes.refusals[geom_label(model, wide)] = (
                    f"margin {margin:g} m with {geom_label(model, other)} (a mesh or height field pair), which MJX "
                    f"cannot simulate; set margin to 0 (or at most {MARGIN_TOLERANCE:g}) in the MJCF"
                )
            elif pair >= 0:
                fixes.pair_fixes.add(pair)
            else:
                fixes.no_margin.update(g for g in (g1, g2) if model.geom_margin[g] > 0.0 or model.geom_gap[g] > 0.0)
        condim, deciding = _condim(model, g1, g2, pair)
        if not (elliptic and condim == 1):
            continue
        if pair >= 0:
            fixes.pair_fixes.add(pair)
        elif _static(model, g1) or _static(model, g2):
            fixes.refusals[geom_label(model, deciding[0])] = (
                f"touches {geom_label(model, g2 if deciding[0] == g1 else g1)} with condim 1 under elliptic cones, "
                'which MJX cannot simulate; give it condim 3 or set <option cone="pyramidal"/> in the MJCF'
            )
        else:
            fixes.condim3.update(deciding)
    return fixes


def _as_capsule(geom: mujoco.MjsGeom, radius: float, half_length: float) -> str:
    """Make a cylinder of the spec a capsule of the same radius and length (or a sphere); describe the result."""
    if not np.isnan(geom.fromto[0]):
        start, end = np.asarray(geom.fromto[:3]), np.asarray(geom.fromto[3:])
        geom.pos = (start + end) / 2.0
        axis = end - start
        quat = np.empty(4)
        mujoco.mju_quatZ2Vec(quat, axis / np.linalg.norm(axis))
        geom.alt.type = mujoco.mjtOrientation.mjORIENTATION_QUAT
        geom.quat = quat
        geom.fromto = [np.nan] * 6
    if half_length <= radius:
        geom.type = mujoco.mjtGeom.mjGEOM_SPHERE
        geom.size = [radius, 0.0, 0.0]
        return f"a sphere of radius {radius:g} m"
    geom.type = mujoco.mjtGeom.mjGEOM_CAPSULE
    geom.size = [radius, half_length - radius, 0.0]
    return "a capsule of the same radius and length"


def self_colliding_bodies(model: mujoco.MjModel) -> set[tuple[int, int]]:
    """Pairs of the robot's bodies (neither the world's) with geoms that may touch, as MJX pairs geoms."""
    pairs = set()
    for g1, g2, _ in collision_driver.geom_pairs(model):
        b1, b2 = sorted((int(model.geom_bodyid[int(g1)]), int(model.geom_bodyid[int(g2)])))
        if not (_static(model, int(g1)) or _static(model, int(g2))):
            pairs.add((b1, b2))
    return pairs


def exclude_bodies(spec: mujoco.MjSpec, pairs: set[tuple[int, int]]) -> str:
    """Add an ``<exclude>`` to ``spec`` for each pair of body ids (unnamed bodies get a name); the pairs, listed."""
    bodies = {b.id: b for b in spec.bodies}
    listed = []
    for b1, b2 in sorted(pairs):
        names = []
        for b in (b1, b2):
            body = bodies[b]
            body.name = body.name or f"body{b}"
            names.append(body.name)
        exclude = spec.add_exclude()
        exclude.bodyname1, exclude.bodyname2 = names
        listed.append("-".join(names))
    return "bodies " + ", ".join(listed)


def apply_mjx_fixes(spec: mujoco.MjSpec, model: mujoco.MjModel, fixes: MjxFixes) -> list[str]:
    """Apply ``fixes`` (found on ``model``, compiled from ``spec``) to ``spec``; return one note per change.

    Bodies with a geom that changes shape get their compiled mass and inertia written as explicit inertials.
    """
    geoms = {g.id: g for g in spec.geoms}
    bodies = {b.id: b for b in spec.bodies}
    notes = []
    for b in sorted({int(model.geom_bodyid[g]) for g in fixes.capsules}):
        _keep_inertia(bodies[b], model, b)
    for g in sorted(fixes.capsules):
        radius, half_length = (float(v) for v in model.geom_size[g, :2])
        shape = _as_capsule(geoms[g], radius, half_length)
        notes.append(
            f"{geom_label(model, g)} (a cylinder) collides as {shape}: MJX cannot collide cylinders with "
            "boxes, meshes or height fields (body masses and inertias kept)"
        )
    if fixes.excluded:
        pairs = exclude_bodies(spec, fixes.excluded)
        notes.append(f"self-collision turned off between {pairs}: MJX cannot collide their geoms")
    for g in sorted(fixes.no_margin):
        geoms[g].margin, geoms[g].gap = 0.0, 0.0
    if fixes.no_margin:
        labels = ", ".join(geom_label(model, g) for g in sorted(fixes.no_margin))
        notes.append(f"margin set to 0 on {labels}: MJX has no margin on mesh and height-field contacts")
    for g in sorted(fixes.condim3):
        geoms[g].condim = 3
    if fixes.condim3:
        labels = ", ".join(geom_label(model, g) for g in sorted(fixes.condim3))
        notes.append(
            f"condim 1 raised to 3 on {labels}: MJX has no frictionless contacts under elliptic cones "
            "(only contacts between robot parts change: they gain friction)"
        )
    explicit = {p.id: p for p in spec.pairs}
    for p in sorted(fixes.pair_fixes):
        if model.pair_dim[p] == 1 and model.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC:
            explicit[p].condim = 3
        types = {int(model.geom_type[model.pair_geom1[p]]), int(model.geom_type[model.pair_geom2[p]])}
        if model.pair_margin[p] > 0.0 and _NO_MARGIN & types:
            explicit[p].margin, explicit[p].gap = 0.0, 0.0
    if fixes.pair_fixes:
        notes.append(
            f"{len(fixes.pair_fixes)} contact pair(s) of the MJCF set to condim 3 (from 1, under elliptic cones) "
            "or margin 0 (with a mesh or height field): MJX cannot simulate them otherwise"
        )
    return notes


def _keep_inertia(body: mujoco.MjsBody, model: mujoco.MjModel, index: int) -> None:
    """Write the body's compiled mass and inertia into the spec, so that changing its geoms' shapes keeps them."""
    body.explicitinertial = True
    body.mass = float(model.body_mass[index])
    body.ipos = model.body_ipos[index]
    body.ialt.type = mujoco.mjtOrientation.mjORIENTATION_QUAT
    body.iquat = model.body_iquat[index]
    body.inertia = model.body_inertia[index]
    body.fullinertia = [np.nan] * 6


def to_mjx(model: mujoco.MjModel, impl: str, source: str | Path) -> tuple[mjx.Model, mjx.Data]:
    """``mjx.put_model`` and ``mjx.make_data``; what MJX still cannot simulate is one line naming ``source``.

    A robot's model is adapted on load, so this only catches features no adaptation covers (flex
    objects, some contact sensors, actuator or sensor types MJX lacks).
    """
    try:
        return mjx.put_model(model, impl=impl), mjx.make_data(model, impl=impl)
    except NotImplementedError as exc:
        message = f"MJX ({impl}) cannot simulate this model: {exc}; remove that feature from the MJCF"
        raise ConfigError.single(source, "-", message) from None
