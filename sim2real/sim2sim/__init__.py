"""sim2sim: an exported policy on the robot in classic MuJoCo (C), through the deployment runtime."""
