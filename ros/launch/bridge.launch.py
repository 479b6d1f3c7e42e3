"""The policy bridge alone, for a real robot.

    ros2 launch sim2real_ros bridge.launch.py robot:=quadruped \
        robot_yaml:=/path/to/robot.yaml policy:=/path/to/policy.onnx

Parameters come from ``config/<robot>.yaml`` (timeouts, tilt limit, safety margins); ``robot_yaml`` and
``policy`` override its ``robot`` and ``policy``. Left out, ``robot_yaml`` is the robot YAML the policy was
exported with (its contract records the path and the file's hash). The bridge starts PASSIVE: call
``~/stand`` then ``~/activate`` (see the README, "Running on a robot").
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    """Arguments robot, robot_yaml, policy; one node: policy_bridge."""
    robot = LaunchConfiguration("robot")
    parameters = PathJoinSubstitution([FindPackageShare("sim2real_ros"), "config", [robot, ".yaml"]])
    overrides = {"robot": LaunchConfiguration("robot_yaml"), "policy": LaunchConfiguration("policy")}
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "robot", default_value="quadruped", description="Parameter file config/<robot>.yaml."
            ),
            DeclareLaunchArgument(
                "robot_yaml",
                default_value="",
                description="The robot YAML the policy was trained with (default: the one its contract records).",
            ),
            DeclareLaunchArgument("policy", description="The .onnx written by sim2real export."),
            Node(
                package="sim2real_ros",
                executable="policy_bridge",
                name="policy_bridge",
                output="screen",
                parameters=[parameters, overrides],
            ),
        ]
    )
