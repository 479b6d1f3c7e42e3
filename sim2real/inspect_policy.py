"""``sim2real inspect FILE.onnx``: a policy contract, readably."""

from __future__ import annotations

from sim2real_runtime.contract import PolicyContract


def describe_contract(contract: PolicyContract, source: str) -> str:
    """The contract as aligned text: robot and timing, the joint table, the observation layout, provenance, origin."""
    c = contract
    lines = [
        f"policy {source}",
        f"  robot {c.robot}, task {c.task or '?'}, {c.control} control, every {c.control_dt * 1000:g} ms "
        f"({1 / c.control_dt:g} Hz)",
        f"  input 'obs' ({c.observation_size}) -> output 'action' ({c.action_size}), "
        f"contract schema {c.schema_version}",
        "",
        f"  {'joint':<20} {'default':>9} {'scale':>8} {'action range':>19} {'kp':>8} {'kd':>8}",
    ]
    for i, name in enumerate(c.joint_names):
        bounds = f"[{c.action_low[i]:.3g}, {c.action_high[i]:.3g}]"
        lines.append(
            f"  {name:<20} {c.default_pose[i]:>9.4g} {c.action_scale[i]:>8.4g} {bounds:>19} "
            f"{c.kp[i]:>8.4g} {c.kd[i]:>8.4g}"
        )
    lines += [
        "",
        f"  {'observation term':<24} {'kind':<18} {'entries':>9} {'scale':>7} {'clip':>6} {'noise':>7}  joints",
    ]
    start = 0
    for term in c.observation:
        span = f"{start}-{start + term.size - 1}" if term.size > 1 else str(start)
        clip = "-" if term.clip is None else f"{term.clip:g}"
        extra = ", ".join(term.joints) or (f"period {term.period_steps} steps" if term.period_steps else "")
        lines.append(
            f"  {term.name:<24} {term.kind:<18} {span:>9} {term.scale:>7.3g} {clip:>6} {term.noise:>7.3g}  {extra}"
        )
        start += term.size
    if c.commands is not None:
        ranges = ", ".join(
            f"{n} [{lo:g}, {hi:g}]" for n, lo, hi in zip(c.commands.names, c.commands.low, c.commands.high, strict=True)
        )
        lines += ["", f"  commands ({c.commands.kind}): {ranges}"]
    if c.training:
        lines += ["", "  trained: " + ", ".join(f"{k} {v}" for k, v in sorted(c.training.items()))]
    if c.origin is not None:
        o = c.origin
        lines += [
            "",
            f"  robot YAML {o.robot_yaml} (sha256 {o.robot_yaml_sha256[:12]})",
            f"  MJCF {o.mjcf} (sha256 {o.mjcf_sha256[:12]})",
            "  task settings: " + (", ".join(f"{k} {v}" for k, v in sorted(o.task_overrides.items())) or "defaults"),
        ]
    return "\n".join(lines)
