"""A bad-input sweep: a few hundred hostile or careless inputs on every surface, classified.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python scripts/bad_input_sweep.py --out runs/sweep
[--only SURFACE ...] [--jobs 2] [--list]``

Each case (:mod:`bad_input_cases`, one data-like list) runs in its own process (forked from
a warm runner that imported the project once, :mod:`bad_input_zygote`), in a
fresh directory ``CASE/work`` (its files written there first), under a timeout and a 12 GiB
address-space cap, and lands in exactly one column, checked in this order:

- ``executed``: code from the input ran (a YAML tag or pickle that creates ``EXECUTED``);
- ``escaped``: something was written in the case directory outside ``work/`` (a path
  read from a file led out of where the run may write);
- ``lost``: a file the case marks as the user's (``keep``) changed or disappeared;
- ``hang``: the timeout struck;
- ``traceback``: a Python traceback reached the user (for the Python API: an exception
  other than ``ValueError``/``TypeError``/gymnasium's error escaped, such as
  ``OverflowError`` or ``MemoryError``);
- ``misread``: accepted (exit 0, or the command's work started: ``ACCEPTED``), or refused
  but a directory it claimed (``--out``) was left behind;
- ``clear``: refused in one line (argparse's usage lines and ``warning:`` lines aside) that
  matches the case's regex, which names the offending field, value or file;
- ``vague``: refused, but in several lines or without naming what was wrong.

The commands of ``train_agent.py`` run in-process with their work (``train``,
``run_reproduce``, ...) replaced by a stub that prints ``ACCEPTED`` and exits 0, as
``tests/test_bad_inputs.py`` does: every check the project makes before the work counts,
a wrongly accepted input costs a second, not a training run. A case with ``real=True``
runs the work too (``python -m hwmodel`` and the Python API always run for real).

Writes ``sweep.md`` (a table per surface and the non-clear cases) and ``sweep.json`` (every
case with its classification and the tails of its stdout and stderr) to ``--out``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
COLUMNS = ("clear", "vague", "traceback", "misread", "hang", "executed", "escaped", "lost")
MARK = "EXECUTED"  # what a payload that ran creates in the case's work directory
MEMORY_CAP = 12 * 2**30  # a case asking for terabytes fails, not the machine
TAIL = 2000


class Fifo:
    """A named pipe at this path: reading it blocks until a writer comes (none does)."""


@dataclass(frozen=True)
class Fixture:
    """A copy of a prepared fixture (:func:`build_fixtures`) at this path; ``repo:PATH``:
    of the repository's ``PATH``."""

    name: str


@dataclass(frozen=True)
class Case:
    """One bad input.

    :param surface: the table row it counts in.
    :param name: what is bad, briefly.
    :param run: ``("cli", *argv)`` (train_agent.py), ``("hwmodel", *argv)``
        (``python -m hwmodel``) or ``("py", code)`` (the Python API); ``{W}`` in any of
        them becomes the case's work directory.
    :param expect: a regex the one-line refusal must match (it names field, value or file).
    :param files: paths in the work directory and their contents (text, bytes, a
        :class:`Fifo` or a :class:`Fixture`; None removes the path), written in order
        before the run.
    :param keep: work paths that are the user's: they must not change.
    :param real: run the command's work instead of the ``ACCEPTED`` stub.
    :param timeout: seconds before the case counts as a hang.
    :param accepted: why accepting this input is the documented behaviour (a limit left to
        gymnasium, a documented meaning): the case is then clear when it is accepted, and
        anything else (a refusal too) is classified as usual.
    """

    surface: str
    name: str
    run: tuple[str, ...]
    expect: str
    files: dict[str, Any] = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    real: bool = False
    timeout: float = 20.0
    accepted: str = ""

    @property
    def id(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{self.surface}-{self.name}").strip("-")
        what = repr((self.surface, self.name, self.run, sorted(self.files)))
        return slug[:60] + "-" + hashlib.sha1(what.encode()).hexdigest()[:10]


# What a command's work is: replaced by the stub unless the case is real.
STUBS = (
    ("agents.rl.training", "train"),
    ("agents.rl.replay", "replay"),
    ("agents.experiments.reproduce", "run_reproduce"),
    ("agents.experiments.benchmark", "run_benchmark"),
    ("agents.experiments.compare", "run_compare"),
    ("agents.search.tune", "run_search"),
    ("tnf_env.model.baseline", "get_baseline"),
)

def build_fixtures(root: Path, names: set[str]) -> None:
    """Prepare the fixtures the selected cases copy (once per sweep, under ``root``).

    ``net``: a saved two-layer network (``net.npz`` + ``net_clusters.json``);
    ``plain.npz``: the same weights as plain layer matrices for ``python -m hwmodel``;
    ``run``: a tiny trained PPO run (``best_model.zip``, ``config.yaml``, checkpoints).
    """
    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    if "plain.npz" in names and not (root / "plain.npz").exists():
        rng = np.random.default_rng(0)
        np.savez(root / "plain.npz", w0=rng.normal(size=(32, 64)), w1=rng.normal(size=(10, 32)))
    if {"net.npz", "net_clusters.json"} & names and not (root / "net.npz").exists():
        code = (
            "import numpy as np, sys\n"
            "from pathlib import Path\n"
            "from agents.common.netstore import save_network\n"
            "from hwmodel.clusters import Cluster\n"
            "w = [np.ones((32, 64), np.float32), np.ones((10, 32), np.float32)]\n"
            "m = [np.ones_like(x, bool) for x in w]\n"
            "save_network(Path(sys.argv[1]), w, m, [[Cluster([0, 1], [0, 1])], []])\n"
        )
        subprocess.run([PYTHON, "-c", code, str(root / "net")], env=env, check=True)
    if "run" in names and not (root / "run" / "best_model.zip").exists():
        shutil.rmtree(root / "run", ignore_errors=True)
        config = root / "tiny.yaml"
        config.write_text(
            "name: tiny\nenv: {dataset: digits, topology: 64-32-10, crossbar_sizes: [16, 32], "
            "max_steps: 2, retrain_epochs: 0.5}\ntimesteps: 4\nn_envs: 1\nn_steps: 4\n"
            "batch_size: 4\nn_epochs: 1\ncheckpoint_every: 4\neval_every: 4\n"
            "eval_episodes: 1\ncompare_episodes: 1\n"
        )
        subprocess.run(
            [PYTHON, str(ROOT / "train_agent.py"), "train", "--config", str(config), "--out",
             str(root / "run"), "--quiet"],
            env={**env, "TNF_CACHE": str(root.parent / "cache")}, check=True,
            stdout=subprocess.DEVNULL,
        )


def _write(work: Path, files: dict[str, Any], fixtures: Path) -> None:
    for rel, content in files.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():  # a case's file replaces a fixture's
            shutil.rmtree(path)
        elif os.path.lexists(path):
            path.unlink()
        if content is None:  # the fixture without this file
            continue
        if isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, Fixture):
            source = (ROOT / content.name.removeprefix("repo:") if content.name.startswith(
                "repo:") else fixtures / content.name)
            if source.is_dir():
                shutil.copytree(source, path)
            else:
                shutil.copyfile(source, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _snapshot(path: Path, skip: Path | None = None) -> dict[str, str]:
    """Every file under ``path`` (not under ``skip``) and a digest of its contents."""
    found: dict[str, str] = {}
    if path.is_file() or path.is_fifo():
        paths = [path]
    elif path.is_dir():
        paths = sorted(path.rglob("*"))
    else:
        return found
    for p in paths:
        if skip is not None and (p == skip or skip in p.parents):
            continue
        if p.is_file() and not p.is_symlink():
            found[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            found[str(p)] = "fifo" if p.is_fifo() else "dir" if p.is_dir() else "other"
    return found


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The files that were there and are gone or hold something else (new files aside)."""
    return [path for path, digest in before.items() if after.get(path) != digest]


def _substitute(parts: tuple[str, ...], work: Path) -> list[str]:
    return [p.replace("{W}", str(work)) for p in parts]


def _out_dirs(argv: list[str], work: Path) -> list[Path]:
    """The output directories a command would claim (``--out``) that do not exist yet."""
    outs = [Path(argv[k + 1]) for k, a in enumerate(argv[:-1]) if a == "--out"]
    outs = [o if o.is_absolute() else work / o for o in outs]
    return [o for o in outs if not os.path.lexists(o)]


_RUNNERS = threading.local()


def _runner() -> subprocess.Popen:
    """This thread's case runner (:mod:`bad_input_zygote`), started on first use."""
    proc = getattr(_RUNNERS, "proc", None)
    if proc is None or proc.poll() is not None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        proc = subprocess.Popen([PYTHON, str(Path(__file__).with_name("bad_input_zygote.py"))],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                text=True, cwd=ROOT)
        _RUNNERS.proc = proc
        _STARTED.append(proc)
    return proc


_STARTED: list[subprocess.Popen] = []


def run_case(case: Case, base: Path, fixtures: Path, cache: Path) -> dict[str, Any]:
    """Run one case in ``base / case.id`` and classify it; its record for ``sweep.json``."""
    home = base / case.id
    shutil.rmtree(home, ignore_errors=True)
    work, outside = home / "work", home / "outside"
    work.mkdir(parents=True)
    outside.mkdir()
    (outside / "sentinel.txt").write_text("a file of the user's, outside the run\n")
    _write(work, case.files, fixtures)
    kind, *payload = _substitute(case.run, work)
    before_outside = _snapshot(home, skip=work)
    before_keep = {k: _snapshot(work / k) for k in case.keep}
    claims = _out_dirs(payload, work) if kind == "cli" else []
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TNF_CACHE": str(cache),
        "TNF_DATA": str(work / "no-data"), "MPLCONFIGDIR": str(work / ".mpl"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("TNF_DEBUG", None)
    request = {"argv": [kind, "real" if case.real else "stub", *payload], "cwd": str(work),
               "env": env, "timeout": case.timeout, "stdout": str(home / "stdout"),
               "stderr": str(home / "stderr"), "stubs": STUBS, "memory": MEMORY_CAP}
    runner = _runner()
    runner.stdin.write(json.dumps(request) + "\n")
    runner.stdin.flush()
    answer = json.loads(runner.stdout.readline())
    seconds, timed_out = answer["seconds"], answer["timed_out"]
    returncode = answer["returncode"]
    out, err = (home / "stdout").read_bytes(), (home / "stderr").read_bytes()
    (home / "stdout").unlink()
    (home / "stderr").unlink()
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    facts = {
        "executed": (work / MARK).exists(),
        "escaped": sorted(set(_snapshot(home, skip=work).items()) ^ set(before_outside.items())),
        "lost": [p for k in case.keep for p in _changed(before_keep[k], _snapshot(work / k))],
        "left_behind": [str(c.relative_to(work)) if work in c.parents else str(c)
                        for c in claims if os.path.lexists(c)],
    }
    column, reason = classify(case.expect, returncode, stdout, stderr, timed_out, facts,
                              case.accepted)
    record = {k: v for k, v in asdict(case).items() if k != "files"}
    record.update(
        id=case.id, files=sorted(case.files), column=column, reason=reason,
        returncode=returncode, seconds=round(seconds, 2), message=_message(stderr)[-1:],
        stdout_tail=stdout[-TAIL:], stderr_tail=stderr[-TAIL:],
    )
    shutil.rmtree(home, ignore_errors=True)
    return record


def _message(stderr: str) -> list[str]:
    """The refusal's lines: stderr without argparse's usage block, ``warning:`` and
    ``note:`` lines and Python warnings."""
    lines = [x.rstrip() for x in re.split(r"[\r\n]+", stderr) if x.strip()]
    return [x for x in lines if not x.startswith(("usage:", " ", "warning:", "note:"))
            and not re.match(r"\S+:\d+: \w*Warning: ", x)]  # Python's warnings module


def classify(expect: str, returncode: int | None, stdout: str, stderr: str, timed_out: bool,
             facts: dict[str, Any], accepted: str = "") -> tuple[str, str]:
    """The one column of :data:`COLUMNS` a finished case lands in, and why.

    :param expect: the regex a clear refusal's one line matches.
    :param returncode: the exit status (None if it never ended).
    :param stdout: what the case printed.
    :param stderr: what the case printed on stderr.
    :param timed_out: the timeout struck.
    :param facts: ``executed`` (bool), ``escaped``, ``lost`` and ``left_behind`` (lists).
    :param accepted: why acceptance is documented (:attr:`Case.accepted`): then an
        accepted case is clear.
    """
    if facts.get("executed"):
        return "executed", f"{MARK} was created: code from the input ran"
    if facts.get("escaped"):
        return "escaped", f"written outside the work directory: {facts['escaped'][0][0]}"
    if facts.get("lost"):
        lost = [Path(p).name for p in facts["lost"]]
        return "lost", f"the user's files changed or disappeared: {', '.join(lost[:4])}"
    if timed_out:
        return "hang", "the timeout struck"
    if "Traceback (most recent call last)" in stderr:
        last = _message(stderr)
        return "traceback", last[-1] if last else "a traceback"
    if returncode == 0 or "ACCEPTED" in stdout:
        reason = next((x for x in stdout.splitlines() if x.startswith("ACCEPTED")), "exit 0")
        if accepted:
            return "clear", f"accepted, as documented: {accepted}"
        return "misread", f"accepted: {reason}"
    if facts.get("left_behind"):
        return "misread", f"refused, but left {', '.join(facts['left_behind'])} behind"
    lines = _message(stderr)
    if not lines:
        return "vague", f"exit {returncode} with no message"
    if len(lines) > 1:
        return "vague", f"{len(lines)} lines: {lines[-1][:200]}"
    if len(lines[0]) >= 800:
        return "vague", f"a line of {len(lines[0])} characters: {lines[0][:200]}"
    if not re.search(expect, lines[0]):
        return "vague", f"does not name what was wrong (/{expect}/): {lines[0][:200]}"
    return "clear", lines[0][:200]


def report(records: list[dict[str, Any]], seconds: float) -> str:
    """``sweep.md``: a row per surface, a column per classification, then the other cases."""
    surfaces = list(dict.fromkeys(r["surface"] for r in records))
    head = "| surface | tried | " + " | ".join(COLUMNS) + " |"
    rows = [head, "|---" * (len(COLUMNS) + 2) + "|"]
    for s in [*surfaces, "all"]:
        mine = [r for r in records if s in ("all", r["surface"])]
        counts = [sum(r["column"] == c for r in mine) for c in COLUMNS]
        label = "**all**" if s == "all" else s
        rows.append(f"| {label} | {len(mine)} | " + " | ".join(map(str, counts)) + " |")
    text = [f"# Bad-input sweep: {len(records)} cases in {seconds:.0f} s", "", *rows, ""]
    for column in COLUMNS[1:]:
        bad = [r for r in records if r["column"] == column]
        if not bad:
            continue
        text += [f"## {column} ({len(bad)})", ""]
        text += [f"- {r['surface']}: {r['name']} -- {r['reason']}" for r in bad]
        text.append("")
    return "\n".join(text)


def sweep(cases: list[Case], out: Path, jobs: int = 2,
          progress: bool = False) -> list[dict[str, Any]]:
    """Run ``cases`` (``jobs`` at a time) under ``out``; their records, in case order.

    :param cases: what to run.
    :param out: where the fixtures, the baseline cache and the case directories go.
    :param jobs: cases run at once (one warm runner each).
    :param progress: show a progress bar on stderr.
    """
    twice = [c.id for c in cases if sum(d.id == c.id for d in cases) > 1]
    if twice:
        raise ValueError(f"cases given twice: {sorted(set(twice))[:3]}")
    out.mkdir(parents=True, exist_ok=True)
    fixtures, cache, base = out / "fixtures", out / "cache", out / "cases"
    needed = {c.name for case in cases for c in case.files.values() if isinstance(c, Fixture)
              and not c.name.startswith("repo:")}
    build_fixtures(fixtures, needed)
    try:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(run_case, c, base, fixtures, cache) for c in cases]
            done = concurrent.futures.as_completed(futures)
            for _ in tqdm(done, total=len(futures), desc="cases", disable=not progress):
                pass
            return [f.result() for f in futures]
    finally:
        while _STARTED:
            proc = _STARTED.pop()
            proc.stdin.close()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/bad-input-sweep", help="output directory")
    parser.add_argument("--only", nargs="+", metavar="SURFACE", help="run these surfaces only")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    from bad_input_cases import cases

    chosen = [c for c in cases() if not args.only or c.surface in args.only]
    if args.only and not chosen:
        surfaces = sorted({c.surface for c in cases()})
        parser.error(f"--only {args.only}: no such surface; allowed: {', '.join(surfaces)}")
    if args.list:
        for c in chosen:
            print(f"{c.surface:24} {c.name}")
        return 0
    start = time.monotonic()
    records = sweep(chosen, Path(args.out), args.jobs, progress=True)
    seconds = time.monotonic() - start
    out = Path(args.out)
    (out / "sweep.json").write_text(json.dumps({"seconds": seconds, "cases": records}, indent=1))
    (out / "sweep.md").write_text(report(records, seconds))
    print(report(records, seconds))
    return 0


if __name__ == "__main__":
    # the cases import this module by its name: run that one, not a second copy as __main__
    sys.path.insert(0, str(Path(__file__).parent))
    import bad_input_sweep

    sys.exit(bad_input_sweep.main())
