"""``train --resume`` never loses a run: what it cannot do is refused before it writes
anything (every file byte-identical afterwards), and a valid resume still continues."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from conftest import write_train_config

from agents.cli import main
from agents.rl.run_dir import RunError, zip_steps

STEPS = 8  # the run's own total: checkpoints at 4 and 8, final_model.zip at 8


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A finished 8-step run (3-step episodes), trained once for the module."""
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("trained")
    cfg = write_train_config(tmp, env={"max_steps": 3, "allow_stop": False}, timesteps=STEPS,
                             n_steps=4, batch_size=4, n_epochs=1, checkpoint_every=4,
                             eval_every=STEPS)
    out = tmp / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A copy of the trained run this test may change."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` and the SHA-256 of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_resume_to_fewer_steps_than_trained_is_refused_and_writes_nothing(run, capsys):
    before = tree(run)
    assert main(["train", "--resume", str(run), "--timesteps", "4", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "timesteps=4" in err and f"the {STEPS} steps" in err, err  # both numbers named
    assert tree(run) == before


def test_the_python_api_refuses_it_too(run):
    from agents.rl.config import TrainConfig
    from agents.rl.training import train

    before = tree(run)
    with pytest.raises(RunError, match=f"timesteps=1 is fewer than the {STEPS} steps"):
        train(TrainConfig(), run, resume=True, progress_bar=False, timesteps=1)
    assert tree(run) == before


def test_no_readable_checkpoint_is_refused_before_config_yaml_is_rewritten(run, capsys):
    for ckpt in (run / "checkpoints").glob("*.zip"):
        ckpt.write_bytes(b"PK")  # every checkpoint cut short
    before = tree(run)
    assert main(["train", "--resume", str(run), "--timesteps", "16", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no readable checkpoint" in err, err
    assert tree(run) == before  # config.yaml still says the run's own total
    assert yaml.safe_load((run / "config.yaml").read_text())["timesteps"] == STEPS


def test_a_checkpoint_of_another_environment_is_refused_before_anything_is_written(run, capsys):
    saved = yaml.safe_load((run / "config.yaml").read_text())
    saved["env"]["crossbar_sizes"] = [16, 32, 64]  # a different action space
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    before = tree(run)
    assert main(["train", "--resume", str(run), "--timesteps", "16", "--quiet"]) == 2
    assert "does not fit this environment" in capsys.readouterr().err
    assert tree(run) == before


def test_a_valid_resume_still_trains_on_to_the_new_total(run, capsys):
    assert main(["train", "--resume", str(run), "--timesteps", "12", "--quiet"]) == 0
    assert yaml.safe_load((run / "config.yaml").read_text())["timesteps"] == 12
    assert zip_steps(run / "final_model.zip") == 12
    # the same total as the run's own: nothing left to train, it only evaluates
    before = zip_steps(run / "final_model.zip")
    assert main(["train", "--resume", str(run), "--timesteps", "12", "--quiet"]) == 0
    assert zip_steps(run / "final_model.zip") == before
