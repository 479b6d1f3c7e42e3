"""colcon (ament_python) build of the ROS 2 package; the runtime comes from ``pip install ./runtime``.

The bridge needs that distribution (``sim2real-runtime``: numpy, onnxruntime, PyYAML, pydantic) and the ROS
packages of package.xml, nothing else. The emulator node ``mujoco_robot`` is a simulator: it runs where the
whole stack is installed (``pip install -e ./runtime -e .``), and says so in one line where it is not.
"""

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
    install_requires=["setuptools", "sim2real-runtime"],
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
