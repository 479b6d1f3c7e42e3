"""Off-policy learners in torch: FastTD3 and FastSAC, their shared pieces, the training loop, checkpoints."""
