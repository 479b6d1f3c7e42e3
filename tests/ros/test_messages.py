"""Message layouts of the ROS nodes: what the bridge reads and what it sends, without DDS."""

import numpy as np
from sensor_msgs.msg import Imu, JointState

from sim2real_ros.messages import COMMAND_COLUMNS, command_message, command_rows, imu_reading, joint_arrays
from sim2real_runtime import JointCommand


def test_a_command_round_trips_through_its_labelled_joints_by_five_layout():
    rows = np.arange(15, dtype=float).reshape(3, 5)
    msg = command_message(JointCommand(*(rows[:, i] for i in range(5))))
    assert [d.label for d in msg.layout.dim] == ["joints", ",".join(COMMAND_COLUMNS)]
    assert [d.size for d in msg.layout.dim] == [3, 5] and msg.layout.dim[0].stride == 15
    np.testing.assert_array_equal(command_rows(msg, 3), rows)
    assert command_rows(msg, 4) is None


def test_a_joint_state_without_velocities_reads_as_nan_so_the_bridge_damps():
    names, position, velocity = joint_arrays(JointState(name=["a", "b"], position=[0.1, 0.2]))
    assert names == ("a", "b")
    np.testing.assert_array_equal(position, [0.1, 0.2])
    assert np.isnan(velocity).all() and velocity.shape == (2,)


def test_the_imu_quaternion_is_reordered_to_w_x_y_z():
    msg = Imu()
    msg.orientation.x, msg.orientation.y, msg.orientation.z, msg.orientation.w = 0.1, 0.2, 0.3, 0.9
    reading = imu_reading(msg)
    np.testing.assert_array_equal(reading.orientation_wxyz, [0.9, 0.1, 0.2, 0.3])
