"""Baselines we measure our learners against (Brax PPO and Brax SAC on our tasks)."""
