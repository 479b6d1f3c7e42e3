"""ROS 2 nodes of the sim2real stack: ``policy_bridge`` (policy to robot, with safety) and ``mujoco_robot``."""
