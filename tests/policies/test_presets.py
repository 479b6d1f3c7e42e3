"""Presets are picked by device: without a GPU the sample-efficient CPU recipe, with one the published preset."""

from policies.presets import CPU_PRESETS
from policies.train_config import gpu_recipe_on_cpu_warning, resolve_train_config
from sim.assets import TASKS_DIR
from tasks.registry import task_yaml_overrides


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


def test_a_task_yaml_on_a_rough_task_takes_the_cpu_recipe_on_a_cpu():
    spec, overrides = task_yaml_overrides(TASKS_DIR / "quadruped_stairs.yaml")
    config = resolve_train_config(spec.name, "fastsac", flags={"device": "cpu"}, task_overrides=overrides)
    assert (config.num_envs, config.learner.batch_size, config.learner.critic_hidden) == (32, 256, (256, 256))
    assert config.env["terrain"]["proportions"]["stairs"] == 0.2  # the YAML's own overrides stand


def test_the_cpu_recipes_train_on_a_cpu_without_a_warning():
    for task in (*CPU_PRESETS, "cartpole_balance"):
        for algo in ("fasttd3", "fastsac"):
            assert gpu_recipe_on_cpu_warning(resolve_train_config(task, algo, flags={"device": "cpu"})) is None


def test_a_gpu_sized_learner_forced_on_a_cpu_gets_one_line_naming_the_cpu_recipe(tmp_path):
    config_file = tmp_path / "gpu.yaml"
    config_file.write_text("device: cpu\nlearner: {batch_size: 8192}\n")
    config = resolve_train_config("quadruped_joystick_flat", "fastsac", config_file)
    warning = gpu_recipe_on_cpu_warning(config)
    assert warning is not None and "\n" not in warning
    assert "batch 8192 x 8 updates per env step" in warning
    assert "CPU recipe (batch 256 x 8" in warning and "differs in learner.batch_size:" in warning


def test_a_task_without_a_cpu_recipe_gets_a_warning_saying_what_to_set():
    warning = gpu_recipe_on_cpu_warning(resolve_train_config("arm_reach", "fasttd3", flags={"device": "cpu"}))
    assert warning is not None and "arm_reach has no CPU recipe" in warning and "learner.batch_size" in warning
