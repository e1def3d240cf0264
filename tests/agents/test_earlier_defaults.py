"""Saved runs and schedules keep the defaults they were run under when a default changes."""

import json

import yaml

from agents.rl.replay import load_schedule
from agents.rl.run_dir import load_run_config
from tnf_env.settings import EARLIER_DEFAULTS, EnvConfig, earlier_settings, explicit_settings


def test_written_documents_carry_the_changed_settings_and_old_ones_get_the_old_defaults():
    today = {k: EnvConfig.model_fields[k].default for k in EARLIER_DEFAULTS}
    assert today != EARLIER_DEFAULTS  # they did change
    assert explicit_settings({"dataset": "digits"}) == {"dataset": "digits", **today,
                                                        "fidelity": "full"}
    assert earlier_settings({"dataset": "digits"}) == {"dataset": "digits", **EARLIER_DEFAULTS}
    given = {"allow_stop": False, "gate_images": 300, "fidelity": "low"}
    assert earlier_settings(given) == given == explicit_settings(given)


def test_a_run_and_a_schedule_written_before_the_change_load_with_the_old_defaults(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(
        {"name": "old", "env": {"dataset": "digits", "max_steps": 2}, "timesteps": 8}))
    cfg = load_run_config(run)
    assert cfg.env["allow_stop"] is True and cfg.env["gate_images"] is None
    schedule = tmp_path / "best_schedule.json"
    schedule.write_text(json.dumps({
        "env": {"dataset": "digits", "max_steps": 2}, "seed": 0,
        "actions": [[0] * 11], "metrics": {"accuracy": 0.9}}))
    env = load_schedule(schedule)["env"]
    assert env["allow_stop"] is True and env["gate_images"] is None
