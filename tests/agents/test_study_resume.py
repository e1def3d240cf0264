"""A study killed between seeds goes on after its last finished seed, with the same rows."""

import json

import pytest
import torch

from agents.cli import main
from agents.experiments import methods as m
from agents.experiments import reproduce
from agents.experiments.episodes import EpisodeRunner
from agents.experiments.study import Study, StudyContext
from tnf_env.model.spiking import SNNSettings

SETTINGS = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": (16,),
            "max_steps": 2, "retrain_epochs": 0.5, "prune_unit": "paper", "allow_stop": False}


class Killed(Exception):
    pass


def _study(log, seeds=(0, 1)) -> tuple[StudyContext, Study]:
    lab = StudyContext(EpisodeRunner(SETTINGS, SNNSettings(timesteps=3)), (16,), [10.0], 10.0,
                       2, 0.5)
    return lab, Study(lab, [m.Original(), m.PruningRelease(max_steps=1)], seeds, (16,), log)


def test_a_killed_study_resumes_after_its_last_finished_seed(tmp_path):
    torch.set_num_threads(1)
    journal = tmp_path / "study.jsonl"

    def kill_at_seed_1(line: str) -> None:
        if line.startswith("seed 1"):
            raise Killed

    lab, study = _study(kill_at_seed_1)
    with pytest.raises(Killed):
        study.run(journal)
    lab.close()
    assert len(journal.read_text().splitlines()) == 2  # the header and seed 0
    lines: list[str] = []
    lab, study = _study(lines.append)
    resumed = study.run(journal, resume=True)
    lab.close()
    assert lines[0].startswith("resuming after 1 finished seed")
    # seed 0 is not run again (a row that fell back adds a warning line)
    progress = [x.split(":")[0] for x in lines[1:] if not x.startswith("warning:")]
    assert progress == ["seed 1 N=16"]
    lab, study = _study(lambda s: None)
    fresh = study.run()
    lab.close()
    assert [e["rows"] for e in resumed] == [e["rows"] for e in fresh]
    lab, other = _study(lambda s: None, seeds=(0, 2))
    with pytest.raises(ValueError, match="holds another study"):
        other.run(journal, resume=True)
    lab.close()


def test_reproduce_resume_keeps_the_finished_seeds_networks_and_figures(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    args = ["reproduce", "--dataset", "digits", "--topology", "64-32-10", "--crossbar-sizes",
            "16", "--epochs", "2", "--steps", "1", "--rate-grid", "1", "--seeds", "0", "1",
            "--snn-timesteps", "3", "--methods", "original", "pruning", "paper", "--quiet"]
    out, nets = tmp_path / "rep", tmp_path / "nets"
    extra = reproduce.ReproduceStudy.seed_extra

    def kill_at_seed_1(self, seed):
        if seed == 1:
            raise Killed
        return extra(self, seed)

    monkeypatch.setattr(reproduce.ReproduceStudy, "seed_extra", kill_at_seed_1)
    run = [*args, "--out", str(out), "--save-networks", str(nets)]
    with pytest.raises(Killed):
        main(run)
    monkeypatch.undo()
    assert not (out / "results.json").exists() and (out / "study.jsonl").exists()
    assert main(run + ["--resume"]) == 0
    assert main([*args, "--out", str(tmp_path / "fresh")]) == 0
    doc = json.loads((out / "results.json").read_text())
    fresh = json.loads((tmp_path / "fresh" / "results.json").read_text())
    assert doc["rows"] == fresh["rows"] and len(doc["rows"]) == 2 * 3
    assert doc["frontier_points"] == fresh["frontier_points"]
    entries = json.loads((nets / "manifest.json").read_text())["networks"]
    keys = [(e["seed"], e["method"], e["crossbar_size"]) for e in entries]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 6  # seed 1 written once
    assert (out / "connectivity_N16.png").stat().st_size > 1000  # seed 0's, from the journal
