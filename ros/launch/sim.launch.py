"""The MuJoCo robot emulator and the policy bridge: the whole loop over real DDS, no hardware.

    ros2 launch sim2real_ros sim.launch.py robot:=quadruped \
        robot_yaml:=/path/to/robot.yaml policy:=/path/to/policy.onnx

Both nodes read ``config/<robot>.yaml``; the emulator's section sets its state rate and any injected
latency, drops or noise. The bridge stands and activates on its own here (``autostart`` is set true).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    """Arguments robot, robot_yaml, policy; nodes mujoco_robot and policy_bridge."""
    robot = LaunchConfiguration("robot")
    parameters = PathJoinSubstitution([FindPackageShare("sim2real_ros"), "config", [robot, ".yaml"]])
    robot_yaml = LaunchConfiguration("robot_yaml")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "robot", default_value="quadruped", description="Parameter file config/<robot>.yaml."
            ),
            DeclareLaunchArgument("robot_yaml", description="The robot YAML (the emulator loads its MJCF)."),
            DeclareLaunchArgument("policy", description="The .onnx written by sim2real export."),
            Node(
                package="sim2real_ros",
                executable="mujoco_robot",
                name="mujoco_robot",
                output="screen",
                parameters=[parameters, {"robot": robot_yaml}],
            ),
            Node(
                package="sim2real_ros",
                executable="policy_bridge",
                name="policy_bridge",
                output="screen",
                parameters=[
                    parameters,
                    {"robot": robot_yaml, "policy": LaunchConfiguration("policy"), "autostart": True},
                ],
            ),
        ]
    )
