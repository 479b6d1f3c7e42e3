"""Joints matched by NAME: where each wanted joint sits in a measured state's joint list."""

from __future__ import annotations

import numpy as np

from sim2real_runtime.errors import MissingInputError


class JointMap:
    """Indices of ``wanted`` joints in a list of measured names; the last lookup is cached."""

    def __init__(self, wanted: tuple[str, ...]) -> None:
        self.wanted = tuple(wanted)
        self._cache: tuple[tuple[str, ...], np.ndarray] | None = None

    def indices(self, names: tuple[str, ...]) -> np.ndarray:
        """Position of each wanted joint in ``names``; :class:`MissingInputError` names any that are absent."""
        names = tuple(names)
        if self._cache is not None and self._cache[0] == names:
            return self._cache[1]
        where = {name: i for i, name in enumerate(names)}
        missing = [j for j in self.wanted if j not in where]
        if missing:
            raise MissingInputError(f"robot state lacks joint(s) {', '.join(missing)}")
        indices = np.array([where[j] for j in self.wanted], dtype=np.int64)
        self._cache = (names, indices)
        return indices
