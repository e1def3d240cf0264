"""Loading a policy or checkpoint never runs code from the run directory.

SB3's ``PPO.load`` unpickles parts of a model zip; a crafted zip whose
``lr_schedule`` unpickles to ``Path.touch(marker)`` shows whether it was.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib
import pickle
import shutil
import warnings
import zipfile

import pytest
import torch
import yaml
from conftest import train_tiny_run

from agents.cli import main
from agents.rl.ppo import PPOPolicy
from agents.rl.run_dir import RunError, resolve_run_dir


class Touch:
    """Unpickles to ``Path(marker).touch()``: stands for any command."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _rewrite(zip_path: pathlib.Path, **members: bytes) -> None:
    with zipfile.ZipFile(zip_path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files.update(members)
    with zipfile.ZipFile(zip_path, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)


def poison_lr_schedule(zip_path: pathlib.Path, marker: pathlib.Path) -> None:
    """Replace the zip's pickled ``lr_schedule`` by one that touches ``marker``."""
    with zipfile.ZipFile(zip_path) as zf:
        data = json.loads(zf.read("data"))
    payload = base64.b64encode(pickle.dumps(Touch(marker))).decode()
    data["lr_schedule"][":serialized:"] = payload
    _rewrite(zip_path, data=json.dumps(data).encode())


@pytest.fixture
def run(tmp_path) -> pathlib.Path:
    return train_tiny_run(tmp_path)


def test_a_poisoned_model_zip_runs_no_code(run, tmp_path, capsys):
    from stable_baselines3 import PPO

    marker = tmp_path / "marker"
    clean = PPO.load(run / "best_model.zip").policy.state_dict()
    checkpoint = run / "checkpoints" / "rl_model_12_steps.zip"
    for zip_path in (run / "best_model.zip", checkpoint):
        poison_lr_schedule(zip_path, marker)
    PPO.load(run / "best_model.zip")  # the poison is live: SB3's own loader runs it
    assert marker.exists()
    marker.unlink()

    policy = PPOPolicy.load(run)  # the same weights, without the pickles
    assert not marker.exists()
    loaded = policy.model.policy.state_dict()
    assert loaded.keys() == clean.keys()
    assert all(torch.equal(loaded[k], clean[k]) for k in clean)
    assert policy.model.num_timesteps > 0

    capsys.readouterr()
    bench = [
        "benchmark", "--run", str(run), "--seeds", "0", "--crossbar-sizes", "16",
        "--random-candidates", "1", "--snn-timesteps", "5", "--out", str(tmp_path / "bench"),
    ]  # fmt: skip
    assert main(bench) == 0
    assert not marker.exists()
    rows = json.loads((tmp_path / "bench" / "results.json").read_text())["rows"]
    assert "ppo" in {r["method"] for r in rows}

    assert main(["replay", str(run / "best_schedule.json")]) == 0
    assert not marker.exists()

    saved = yaml.safe_load((run / "config.yaml").read_text())
    saved["timesteps"] = 18  # resume from the poisoned checkpoint for one more rollout
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert not marker.exists()
    assert "18 timesteps" in capsys.readouterr().out


def test_a_pickled_object_as_weights_is_a_one_line_error(run, tmp_path, capsys):
    marker = tmp_path / "marker"
    blob = io.BytesIO()  # what torch.save writes for an object instead of tensors
    torch.save({"mlp_extractor.policy_net.0.weight": Touch(marker)}, blob)
    evil = blob.getvalue()
    _rewrite(run / "best_model.zip", **{"policy.pth": evil})
    with pytest.raises(RunError, match="best_model.zip is unreadable") as err:
        PPOPolicy.load(run)
    assert len(str(err.value).splitlines()) == 1 and "could run code" in str(err.value)
    _rewrite(run / "checkpoints" / "rl_model_12_steps.zip", **{"policy.optimizer.pth": evil})
    saved = yaml.safe_load((run / "config.yaml").read_text())
    saved["timesteps"] = 18
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    err_text = capsys.readouterr().err.strip()
    assert len(err_text.splitlines()) == 1 and "no readable checkpoint" in err_text
    assert not marker.exists()


def test_a_search_may_name_only_its_own_trials(run, tmp_path, capsys):
    search = tmp_path / "search"
    (search / "trials").mkdir(parents=True)
    shutil.copytree(run, search / "trials" / "tiny-s0")
    for elsewhere in (str(run), "../run", "trials/../../run"):
        doc = {"best_run": elsewhere, "trials": [{"run_dir": elsewhere}]}
        (search / "results.json").write_text(json.dumps(doc))
        with pytest.raises(RunError, match="outside its search directory"):
            resolve_run_dir(search)
        argv = ["benchmark", "--run", str(search), "--out", str(tmp_path / "b")]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "outside its search directory" in err
    # a trial listed elsewhere poisons the whole file, even if the best run is inside
    doc = {"best_run": "trials/tiny-s0", "trials": [{"run_dir": str(run)}]}
    (search / "results.json").write_text(json.dumps(doc))
    with pytest.raises(RunError, match="outside its search directory"):
        resolve_run_dir(search)
    inside = str((search / "trials" / "tiny-s0").resolve())
    for best in ("trials/tiny-s0", inside):
        (search / "results.json").write_text(json.dumps({"best_run": best, "trials": []}))
        assert resolve_run_dir(search) == search.resolve() / "trials" / "tiny-s0"
    from stable_baselines3 import PPO

    # the best model is whichever evaluation scored best (6 or 12 steps, by the cost model)
    best_zip = search / "trials" / "tiny-s0" / "best_model.zip"
    assert PPOPolicy.load(search).model.num_timesteps == PPO.load(best_zip).num_timesteps
    # the model is rebuilt with the run's workers and batches: no warning about their sizes
    trial_cfg = search / "trials" / "tiny-s0" / "config.yaml"
    saved = yaml.safe_load(trial_cfg.read_text())
    trial_cfg.write_text(yaml.safe_dump({**saved, "n_envs": 2, "n_steps": 24, "batch_size": 48}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PPOPolicy.load(search).model.n_envs == 2
