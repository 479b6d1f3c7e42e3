"""Off-policy learners (FastTD3, FastSAC) in torch; the learners arrive with issue 3."""
