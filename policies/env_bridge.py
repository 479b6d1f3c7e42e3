"""Moving data between the JAX envs and torch: DLPack views, and env states as checkpointable tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import torch


def to_torch(x: jax.Array, device: torch.device) -> torch.Tensor:
    """A torch view of a JAX array through DLPack (no copy when both sit on the same device)."""
    tensor = torch.from_dlpack(x)
    return tensor if tensor.device == device else tensor.to(device)


def to_jax(x: torch.Tensor) -> jax.Array:
    """A JAX view of a torch tensor through DLPack (contiguous first)."""
    return jnp.from_dlpack(x.detach().contiguous())


def on_jax_arrays(
    policy: Callable[[torch.Tensor], torch.Tensor], device: torch.device
) -> Callable[[jax.Array], jax.Array]:
    """A torch policy as one on JAX arrays (what :class:`sim.evaluation.Evaluator` plays), through DLPack views."""

    def act(obs: jax.Array) -> jax.Array:
        with torch.no_grad():
            return to_jax(policy(to_torch(obs, device)))

    return act


def pack_tree(tree: Any) -> list[dict[str, Any]]:
    """Each leaf of a JAX pytree as ``{dtype, shape, data}`` with the raw bytes in a uint8 tensor."""
    packed = []
    for leaf in jax.tree.leaves(tree):
        array = np.asarray(leaf)
        packed.append(
            {
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "data": torch.from_numpy(np.frombuffer(array.tobytes(), dtype=np.uint8).copy()),
            }
        )
    return packed


def unpack_tree(like: Any, packed: list[dict[str, Any]]) -> Any:
    """Rebuild a pytree shaped like ``like`` from :func:`pack_tree`'s output; refuses any mismatch."""
    leaves, treedef = jax.tree.flatten(like)
    if len(leaves) != len(packed):
        raise ValueError(f"saved env state has {len(packed)} arrays, this env has {len(leaves)}")
    restored = []
    for index, (leaf, saved) in enumerate(zip(leaves, packed, strict=True)):
        dtype, shape = np.dtype(saved["dtype"]), tuple(saved["shape"])
        if dtype != np.asarray(leaf).dtype or shape != tuple(leaf.shape):
            raise ValueError(f"saved env state array {index} is {dtype}{shape}, this env has {leaf.dtype}{leaf.shape}")
        array = np.frombuffer(saved["data"].cpu().numpy().tobytes(), dtype=dtype).reshape(shape)
        restored.append(jnp.asarray(array))
    return jax.tree.unflatten(treedef, restored)
