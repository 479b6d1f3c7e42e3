"""Presets are picked by device: without a GPU the sample-efficient CPU recipe, with one the published preset."""

from policies.presets import CPU_PRESETS
from policies.train_config import resolve_train_config


def test_a_cpu_run_takes_the_cpu_recipe_and_a_cuda_run_the_published_gpu_preset():
    cpu = resolve_train_config("quadruped_joystick_flat", "fastsac", flags={"device": "cpu"})
    gpu = resolve_train_config("quadruped_joystick_flat", "fastsac", flags={"device": "cuda"})
    assert (cpu.num_envs, cpu.learner.batch_size, cpu.learner.critic_hidden) == (32, 256, (256, 256))
    assert cpu.learner.action_bounds == "unit" and cpu.env["command_curriculum"]["start"] == 0.3
    assert (gpu.num_envs, gpu.learner.batch_size, gpu.learner.critic_hidden) == (4096, 8192, (768, 384, 192))
    assert gpu.env == {}


def test_flags_and_config_files_still_win_over_the_cpu_recipe(tmp_path):
    config_file = tmp_path / "run.yaml"
    config_file.write_text("device: cpu\nlearner: {batch_size: 128}\n")
    config = resolve_train_config("quadruped_joystick_flat", "fasttd3", config_file, {"num_envs": 8})
    assert (config.num_envs, config.learner.batch_size) == (8, 128)
    assert config.learner.critic_hidden == (256, 256)  # the rest of the CPU recipe stands


def test_every_cpu_preset_names_a_registered_task_and_parses_for_both_learners():
    for task in CPU_PRESETS:
        for algo in ("fasttd3", "fastsac"):
            assert resolve_train_config(task, algo, flags={"device": "cpu"}).num_envs == 32
