"""Every ``train`` run directory gets ``learning_curve.png``: returns against steps."""

import json

import numpy as np
import pytest
import torch
from conftest import write_train_config
from matplotlib.image import imread

from agents.cli import main
from agents.rl.learning_curve import LEARNING_CURVE, learning_curve_figure, monitor_episodes


def _monitor(path, rows, start=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = "" if start is None else f', "start_timesteps": {start}'
    lines = ['#{"t_start": 0.0, "env_id": "tnf_env/TraNNsformer-v0"' + extra + "}",
             "r,l,t,accuracy"]
    path.write_text("\n".join(lines + [f"{r},{n},1.0,0.9" for r, n in rows]) + "\n")


def test_monitor_sessions_add_up_in_order(tmp_path):
    _monitor(tmp_path / "monitor" / "0.monitor.csv", [(0.1, 3), (0.2, 3)])
    _monitor(tmp_path / "monitor" / "10.monitor.csv", [(0.5, 1)])  # after session 2, not 0
    _monitor(tmp_path / "monitor" / "2.monitor.csv", [(-0.3, 2)])
    assert monitor_episodes(tmp_path) == ([3, 6, 8, 9], [0.1, 0.2, -0.3, 0.5])
    png = learning_curve_figure(tmp_path, tmp_path / "curve.png")  # no TensorBoard: episodes
    assert png == tmp_path / "curve.png" and imread(png).shape == (418, 704, 4)
    assert learning_curve_figure(tmp_path / "empty", tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
    # a resumed session restarts from its checkpoint: its episodes count from there
    _monitor(tmp_path / "monitor" / "11.monitor.csv", [(0.4, 2)], start=5)
    assert monitor_episodes(tmp_path)[0] == [3, 6, 8, 9, 7]
    (tmp_path / "monitor" / "3.monitor.csv").write_text("r,l,t\n1,1,1\n")
    with pytest.raises(ValueError, match=r"3\.monitor\.csv: not a monitor file"):
        monitor_episodes(tmp_path)


def test_train_writes_a_learning_curve_and_resume_redraws_it(tmp_path):
    torch.set_num_threads(1)
    cfg = write_train_config(tmp_path, timesteps=24)
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    png = out / LEARNING_CURVE
    image = imread(png)
    assert image.shape == (418, 704, 4)
    assert np.unique(image.reshape(-1, 4), axis=0).shape[0] > 50  # drawn, not a blank canvas
    steps, returns = monitor_episodes(out)
    assert steps and steps[-1] <= 24 and all(np.diff(steps) > 0) and len(returns) == len(steps)
    first = png.read_bytes()
    assert main(["train", "--resume", str(out), "--timesteps", "48", "--quiet"]) == 0
    more, _ = monitor_episodes(out)
    assert len(more) > len(steps) and more[: len(steps)] == steps and more[-1] <= 48
    header = (out / "monitor" / "1.monitor.csv").read_text().splitlines()[0]
    start = json.loads(header[1:])["start_timesteps"]  # the checkpoint it resumed from
    assert 0 < start <= 24 and more[len(steps)] > start
    assert png.read_bytes() != first  # redrawn with the second session's episodes
