"""colcon (ament_python) build of the ROS 2 package; the runtime comes from ``pip install sim2real-stack``."""

from glob import glob

from setuptools import setup

PACKAGE = "sim2real_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=[PACKAGE],
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    description="policy_bridge and mujoco_robot nodes of the sim2real stack",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"policy_bridge = {PACKAGE}.policy_bridge:main",
            f"mujoco_robot = {PACKAGE}.mujoco_robot:main",
        ]
    },
)
