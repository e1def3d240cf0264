"""A command whose start fails after it claimed its output directory leaves the directory as
it found it (absent, or without what the claim added: its lock, a journal of no finished
unit, a run's config.yaml), and a second attempt succeeds; once the work has begun, a
failure keeps everything for --resume."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write_train_config
from filelock import FileLock

from agents.common import outputs
from agents.common.outputs import JOURNAL, Journal, OutputError, claim_dir, mark_started

ROOT = Path(__file__).resolve().parents[2]
MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _tree(path: Path) -> dict[str, bytes | None]:
    """Every path under ``path`` with its content (None for a directory)."""
    out: dict[str, bytes | None] = {}
    for root, dirs, files in os.walk(path):
        for d in dirs:
            out[os.path.relpath(Path(root) / d, path)] = None
        for f in files:
            out[os.path.relpath(Path(root) / f, path)] = (Path(root) / f).read_bytes()
    return out


def _user_dir(path: Path) -> Path:
    """A directory holding a user's own files, one of them in a subdirectory."""
    (path / "mine").mkdir(parents=True)
    (path / "notes.txt").write_text("keep me")
    (path / "mine" / "data.csv").write_text("1,2\n")
    return path


class Boom(RuntimeError):
    pass


def _fail_after_writing(out: Path) -> None:
    """What a start writes before it fails: a journal (no unit), a file, a nested file
    inside a new and inside an existing directory."""
    with pytest.raises(Boom), claim_dir(out, "--out"):
        with Journal(out / JOURNAL, {"study": 1}, "study"):
            (out / "config.yaml").write_text("x: 1\n")
            (out / "tb" / "ppo_1").mkdir(parents=True)
            (out / "tb" / "ppo_1" / "events").write_text("e")
            if (out / "mine").is_dir():
                (out / "mine" / "partial.json").write_text("{}")
            raise Boom


def test_a_failed_start_in_a_new_directory_removes_it_and_the_parents_it_made(tmp_path):
    out = tmp_path / "runs" / "new" / "out"
    _fail_after_writing(out)
    assert not (tmp_path / "runs").exists()
    with claim_dir(out, "--out"):  # the second attempt is not told the directory is in use
        (out / "results.json").write_text("{}")
    assert (out / "results.json").is_file()


def test_a_failed_start_in_an_existing_directory_leaves_it_unchanged(tmp_path):
    out = _user_dir(tmp_path / "out")
    before = _tree(out)
    _fail_after_writing(out)
    assert _tree(out) == before  # no lock, no journal, no config.yaml, the user's files kept
    with claim_dir(out, "--out"):
        (out / "results.json").write_text("{}")
    assert (out / "notes.txt").read_text() == "keep me" and (out / "results.json").is_file()


def test_a_refused_claim_of_a_directory_holding_results_adds_nothing(tmp_path):
    out = _user_dir(tmp_path / "out")
    (out / "results.json").write_text("{}")
    before = _tree(out)
    with pytest.raises(OutputError, match="already holds results.json"):
        with claim_dir(out, "--out"):
            pass
    assert _tree(out) == before


def test_a_failure_after_a_finished_unit_keeps_the_journal_to_resume(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(Boom), claim_dir(out, "--out"):
        with Journal(out / JOURNAL, {"study": 1}, "study") as book:
            book.append({"number": 0, "rows": []})
            (out / "seed0.json").write_text("{}")
        raise Boom
    assert (out / "seed0.json").is_file()
    with Journal(out / JOURNAL, {"study": 1}, "study") as book:
        assert book.entries == [{"number": 0, "rows": []}]


def test_work_that_has_begun_keeps_its_files_when_it_fails(tmp_path):
    out = _user_dir(tmp_path / "out")
    with pytest.raises(Boom), claim_dir(out, "--out"):
        (out / "checkpoints").mkdir()
        mark_started()  # a learner's first step
        (out / "checkpoints" / "rl_model_8_steps.zip").write_text("z")
        raise Boom
    assert (out / "checkpoints" / "rl_model_8_steps.zip").is_file()
    assert (out / "notes.txt").is_file()
    with claim_dir(out, "--out"):  # the next claim starts afresh: its own failure undoes
        pass


def test_a_directory_held_by_another_process_is_left_to_it(tmp_path):
    out = _user_dir(tmp_path / "out")
    lock = FileLock(out / ".lock", timeout=0)
    lock.acquire()
    try:
        (out / "theirs.json").write_text("{}")  # the holder writes while we are refused
        with pytest.raises(OutputError, match="in use by another process"):
            with claim_dir(out, "--out"):
                pass
        assert (out / "theirs.json").is_file() and (out / ".lock").is_file()
    finally:
        lock.release()


def test_train_whose_warm_start_fails_after_the_run_was_written_leaves_nothing(
    tmp_path, capsys
):
    """A warm-start policy that cannot be read leaves the output directory as it was."""
    import torch

    from agents.cli import main

    torch.set_num_threads(1)
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "config.yaml").write_text((ROOT / "policies" / "digits" / "config.yaml")
                                        .read_text())
    (policy / "best_model.zip").write_text("not a zip")
    out = _user_dir(tmp_path / "out")
    before = _tree(out)
    bad = write_train_config(tmp_path, timesteps=8, checkpoint_every=8, eval_every=8,
                             warm_start=f"policy:{policy}", warm_start_episodes=1)
    assert main(["train", "--config", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(policy) in err, err
    assert _tree(out) == before
    good = write_train_config(tmp_path, timesteps=8, checkpoint_every=8, eval_every=8)
    assert main(["train", "--config", str(good), "--out", str(out), "--quiet"]) == 0
    assert (out / "config.yaml").is_file() and (out / "best_model.zip").is_file()
    assert (out / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("resume", [False, True])
def test_reproduce_whose_dataset_fails_to_load_leaves_the_directory_as_it_was(
    tmp_path, capsys, monkeypatch, resume
):
    """A corrupt dataset file is found only when the first seed loads it, after the claim
    and the journal."""
    from agents.cli import main

    data = tmp_path / "data"
    data.mkdir()
    for name in MNIST_FILES:
        (data / name).write_bytes(b"not gzip")
    out = tmp_path / "out"
    if resume:
        _user_dir(out)
        (out / ".lock").write_text("")  # an earlier command's lock file
    args = ["reproduce", "--dataset", "mnist-10k", "--set", f"env.data_dir={data}",
            "--seeds", "0", "--out", str(out), "--quiet"]
    if resume:  # an earlier run of this study that was killed before it finished a unit
        with monkeypatch.context() as m:
            m.setattr(outputs, "undo_start", lambda *a: None)
            assert main(args) == 2
        capsys.readouterr()
        assert (out / "study.jsonl").exists()
        args.append("--resume")
    before = _tree(out) if resume else None
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "corrupt" in err, err
    if resume:
        assert _tree(out) == before
    else:
        assert not out.exists()
    with claim_dir(out, "--out"):  # a second attempt is neither "in use" nor "already holds"
        pass
