"""MJX simulation core: robots, the batched env contract, domain randomization, noise and delay."""
