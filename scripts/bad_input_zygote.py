"""The bad-input sweep's case runner: imports the project once, then forks a child per case.

Started by :mod:`bad_input_sweep` (one per job, single-threaded, so forking is safe). Each
line on stdin is a JSON request ``{"argv", "cwd", "env", "timeout", "stdout", "stderr",
"stubs", "memory"}``; the child runs the case as a fresh process would (its own session,
directory, environment, address-space cap, stdout and stderr in files) and the runner
answers one JSON line ``{"returncode", "timed_out", "seconds"}``. A child that outlives
its timeout is killed with its process group.

A case's ``argv`` is ``[MODE, "stub" | "real", *payload]``: ``cli`` runs
``agents.cli.main(payload)`` (with ``stub``, each ``(module, function)`` of ``stubs``, the
command's work, prints ``ACCEPTED`` and exits 0 when reached), ``hwmodel`` runs
``hwmodel.cli.main(payload)``, ``py`` executes the snippet ``payload[0]``: a ``ValueError``,
``TypeError`` or gymnasium error is its refusal (one line ``REFUSED Type: message`` on
stderr, exit 2), any other exception a traceback.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
import time
import traceback

# what the cases use, imported before any fork so that each case starts warm
import gymnasium
import stable_baselines3  # noqa: F401
import torch

import agents.cli
import hwmodel.cli
import tnf_env  # noqa: F401  (registers the environment)

for _module in ("agents.rl.training", "agents.rl.replay", "agents.experiments.reproduce",
                "agents.experiments.benchmark", "agents.experiments.compare",
                "agents.search.tune", "tnf_env.model.baseline", "tnf_env.env"):
    try:
        importlib.import_module(_module)
    except ImportError:  # an extra that is not installed
        pass


def _accepted(name: str):
    def work(*args, **kwargs):
        print(f"ACCEPTED: {name} started", flush=True)
        sys.stderr.flush()
        os._exit(0)
    return work


def _case(argv: list[str], stubs: list[list[str]]) -> int:
    """Run one case in this (child) process; its exit status."""
    mode, stub, payload = argv[0], argv[1] == "stub", argv[2:]
    if mode == "cli":
        if stub:
            for module, name in stubs:
                if module in sys.modules:
                    setattr(sys.modules[module], name, _accepted(name))
        sys.argv = ["train_agent.py", *payload]
        return agents.cli.main(payload)
    if mode == "hwmodel":
        sys.argv = ["python -m hwmodel", *payload]
        return hwmodel.cli.main(payload)
    try:
        exec(compile(payload[0], "<case>", "exec"), {"__name__": "__case__"})
    except (ValueError, TypeError, gymnasium.error.Error) as exc:
        print(f"REFUSED {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print("ACCEPTED: the call returned", flush=True)
    return 0


def _child(request: dict) -> None:
    os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    status = 1
    try:
        status = _case(request["argv"], request["stubs"])
    except SystemExit as exc:  # as the interpreter turns sys.exit into a status
        if exc.code is None or isinstance(exc.code, int):
            status = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status if isinstance(status, int) else 1)


def main() -> None:
    torch.set_num_threads(1)
    for line in sys.stdin:
        request = json.loads(line)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(request)
        deadline, timed_out = start + request["timeout"], False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                timed_out = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status = os.waitpid(pid, 0)
                break
            time.sleep(0.02)
        answer = {"returncode": os.waitstatus_to_exitcode(status), "timed_out": timed_out,
                  "seconds": time.monotonic() - start}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
