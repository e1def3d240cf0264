"""The bad-input sweep's cases (:mod:`bad_input_sweep`), one surface after another.

Each case is a :class:`~bad_input_sweep.Case`: the surface it counts in, what is bad, how it
runs (``cli``: ``train_agent.py``; ``hwmodel``: ``python -m hwmodel``; ``py``: a snippet of
the Python API), the regex a clear one-line refusal matches, and the files it needs.
Settings are tiny (digits, 64-32-10, one step) so that a case wrongly accepted ends fast.
Payloads that would run code create the file ``EXECUTED`` in the case's directory.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import yaml
from bad_input_sweep import MARK, Case, Fifo, Fixture

BIG = str(2**70)  # beyond int64: must be refused by a range check, not a conversion
HUGE = str(2**63)
TOUCH = f"!!python/object/apply:os.system ['touch {MARK}']"
ENV = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": [16, 32],
       "max_steps": 1, "retrain_epochs": 0.1}
CONFIG = {"name": "tiny", "env": ENV, "timesteps": 4, "n_envs": 1, "n_steps": 4,
          "batch_size": 4, "n_epochs": 1, "checkpoint_every": 4, "eval_every": 4,
          "eval_episodes": 1, "compare_episodes": 1}
SCHEDULE = {"env": {**ENV, "max_steps": 2}, "seed": 0, "actions": [[0] * 8],
            "metrics": {"cost": 1.0}}
SMALL = ("import numpy as np, gymnasium as gym, tnf_env\n"
         "SMALL = dict(dataset='digits', topology='64-32-10', crossbar_sizes=(16, 32), "
         "max_steps=2, retrain_epochs=0.1)\n")


def config(env: dict | None = None, drop: tuple[str, ...] = (), **changes) -> str:
    """The tiny training config with these changes, as YAML text."""
    doc = {**CONFIG, **changes, "env": {**ENV, **(env or {})}}
    for key in drop:
        doc.pop(key)
    return yaml.safe_dump(doc)


def schedule(drop: tuple[str, ...] = (), **changes) -> str:
    doc = {**SCHEDULE, **changes}
    for key in drop:
        doc.pop(key)
    return json.dumps(doc)


def npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npy_header_claiming(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    """An .npz whose one array's header declares ``shape`` but holds 8 bytes of data."""
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    header = header.ljust(118) + "\n"
    body = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 8
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("w0.npy", body)
    return buf.getvalue()


def zip_bomb(n_bytes: int = 2**30) -> bytes:
    """An .npz of one float64 array of ``n_bytes`` zeros, deflated to about a megabyte."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({n_bytes // 8},), }}"
    header = header.ljust(118) + "\n"
    head = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z, z.open("w0.npy", "w",
                                                                      force_zip64=True) as f:
        f.write(head)
        chunk = bytes(2**24)
        for _ in range(n_bytes // len(chunk)):
            f.write(chunk)
    return buf.getvalue()


def pickled_payload() -> bytes:
    """A pickle that, loaded, runs ``touch EXECUTED``."""
    return (b"cos\nsystem\n(V" + f"touch {MARK}".encode() + b"\ntR.")


def idx(magic: int, dims: tuple[int, ...], data: bytes) -> bytes:
    return (magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + data)


def sb3_zip_with_pickle() -> bytes:
    """A best_model.zip whose ``data`` holds a cloudpickle'd entry that runs a command."""
    import base64

    data = {"policy_class": {":type:": "<class 'abc.ABCMeta'>",
                             ":serialized:": base64.b64encode(pickled_payload()).decode()},
            "observation_space": {":serialized:": base64.b64encode(pickled_payload()).decode()}}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data", json.dumps(data))
        z.writestr("policy.pth", b"\0" * 16)
        z.writestr("_stable_baselines3_version", "2.0.0")
    return buf.getvalue()


# -- the surfaces ----------------------------------------------------------------------------
def technology_cases() -> list[Case]:
    """A technology file, costed by ``python -m hwmodel`` (and read by reproduce, the API)."""
    def tech(name: str, text: str, expect: str, base: str = "resparc", **kw) -> Case:
        body = text if text.startswith(("base:", "{", "[", "!!")) or not base else \
            f"base: {base}\n{text}"
        return Case("technology file", name,
                    ("hwmodel", "plain.npz", "-n", "16", "32", "-t", "tech.yaml"), expect,
                    {"plain.npz": Fixture("plain.npz"), "tech.yaml": body}, **kw)

    cases = []
    ints = ("min_crossbar", "max_crossbar", "reference_crossbar", "timesteps",
            "crossbars_per_router", "packet_bits")
    for f in ints:
        cases += [
            tech(f"{f} a float", f"{f}: 64.0\n", f),
            tech(f"{f} a numeric string", f"{f}: '64'\n", f),
            tech(f"{f} a boolean", f"{f}: true\n", f),
            tech(f"{f} beyond int64", f"{f}: {BIG}\n", f),
        ]
    for f in ("array_area_mm2", "column_energy_pj", "spike_probability", "routing_energy_pj"):
        cases += [
            tech(f"{f} infinite", f"{f}: .inf\n", f),
            tech(f"{f} NaN", f"{f}: .nan\n", f),
            tech(f"{f} a numeric string", f"{f}: '0.5'\n", f),
            tech(f"{f} negative", f"{f}: -1\n", f),
            tech(f"{f} 1e308 (overflows when summed)", f"{f}: 1.0e+308\n", f),
            tech(f"{f} 1e-320 (subnormal)", f"{f}: 1.0e-320\n", f),
        ]
    for f in ("array_scaling", "driver_scaling", "buffer_scaling", "router_group_scaling"):
        cases += [
            tech(f"{f} 400 (underflows at N=16)", f"{f}: 400\n", f),
            tech(f"{f} -400", f"{f}: -400\n", f),
            tech(f"{f} 1e6", f"{f}: 1000000\n", f),
        ]
    cases += [
        tech("adc_table an infinite energy", "adc_table: [[4, .inf, 1], [5, 1, 1], [6, 1, 1],"
             " [7, 1, 1], [8, 1, 1], [9, 1, 1], [10, 1, 1]]\n", "adc_table", base="isaac"),
        tech("adc_table boolean bits", "adc_table: [[true, 1, 1]]\n", "adc_table", base="isaac"),
        tech("adc_table numeric-string cells", "adc_table: [['4', '1', '1'], [5, 1, 1], "
             "[6, 1, 1], [7, 1, 1], [8, 1, 1], [9, 1, 1], [10, 1, 1]]\n", "adc_table",
             base="isaac"),
        tech("adc_table a 1e308 area", "adc_table: [[4, 1, 1.0e+308], [5, 1, 1], [6, 1, 1],"
             " [7, 1, 1], [8, 1, 1], [9, 1, 1], [10, 1, 1]]\n", "adc_table", base="isaac"),
        tech("adc_table a mapping with list keys", "adc_table: {[4]: [1, 1]}\n", "adc_table",
             base="isaac"),
        tech("adc_table a string", "adc_table: abc\n", "adc_table", base="isaac"),
        tech("adc_table rows of 2", "adc_table: [[4, 1]]\n", "adc_table", base="isaac"),
        tech("adc_bits beyond int64", f"adc_bits: {BIG}\n", "adc_bits", base="isaac"),
        tech("adc_bits a float", "adc_bits: 8.0\n", "adc_bits", base="isaac"),
        tech("partial_sum_bits infinite", "partial_sum_bits: .inf\n", "partial_sum_bits"),
        tech("hop_energy_pj 1e308", "hop_energy_pj: 1.0e+308\n", "hop_energy_pj"),
        tech("kind a list (used as a key)", "kind: [1]\n", "kind"),
        tech("kind a mapping", "kind: {a: 1}\n", "kind"),
        tech("base a list", "base: [1]\n", "base", base=""),
        tech("base unknown", "base: nope\n", "base.*nope|nope.*base", base=""),
        tech("name a number", "name: 5\n", "name"),
        tech("unknown field", "colour: red\n", "colour"),
        tech("device levels a float", "device: {levels: 2.5}\n", "levels"),
        tech("device levels beyond int64", f"device: {{levels: {BIG}}}\n", "levels"),
        tech("device unknown key", "device: {colour: 1}\n", "colour"),
        tech("device a number", "device: 5\n", "device"),
        tech("device sigma infinite", "device: {sigma: .inf}\n", "sigma"),
        tech("sources a list", "sources: [1]\n", "sources"),
        tech("a YAML tag that runs code", f"base: {TOUCH}\n", "tag|python/object", base=""),
        tech("empty file", "", "tech\\.yaml", base=""),
        tech("a list, not a mapping", "[1, 2]\n", "tech\\.yaml", base=""),
        tech("binary garbage", "\x00\x01\x02", "tech\\.yaml", base=""),
        Case("technology file", "a named pipe (FIFO)",
             ("hwmodel", "plain.npz", "-t", "tech.yaml"), "tech\\.yaml",
             {"plain.npz": Fixture("plain.npz"), "tech.yaml": Fifo()}, timeout=10),
        Case("technology file", "a directory",
             ("hwmodel", "plain.npz", "-t", "tech.yaml"), "tech\\.yaml",
             {"plain.npz": Fixture("plain.npz"), "tech.yaml/x": "1"}),
        Case("technology file", "/dev/zero (a device)",
             ("hwmodel", "plain.npz", "-t", "/dev/zero"), "/dev/zero",
             {"plain.npz": Fixture("plain.npz")}, timeout=10),
        Case("technology file", "reproduce --technology: an infinite ADC entry",
             ("cli", "reproduce", "--topology", "64-32-10", "--crossbar-sizes", "16",
              "--technology", "tech.yaml", "--out", "out"), "adc_table",
             {"tech.yaml": "base: isaac\nadc_table: [[4, .inf, 1], [5, 1, 1], [6, 1, 1], "
              "[7, 1, 1], [8, 1, 1], [9, 1, 1], [10, 1, 1]]\n"}),
        Case("technology file", "reproduce --technology: max_crossbar a float",
             ("cli", "reproduce", "--topology", "64-32-10", "--crossbar-sizes", "16",
              "--technology", "tech.yaml", "--out", "out"), "max_crossbar",
             {"tech.yaml": "base: resparc\nmax_crossbar: 256.0\n"}),
        Case("technology file", "tnf_env.make(technology=): scaling underflows",
             ("py", SMALL + "tnf_env.make(**SMALL, technology='tech.yaml')"), "array_scaling",
             {"tech.yaml": "base: resparc\narray_scaling: 400\n"}),
        Case("technology file", "tnf_env.make(technology=): a FIFO",
             ("py", SMALL + "tnf_env.make(**SMALL, technology='tech.yaml')"), "tech\\.yaml",
             {"tech.yaml": Fifo()}, timeout=10),
    ]
    return cases


def config_cases() -> list[Case]:
    """A training config (``train --config FILE``)."""
    def cfg(name: str, text: str, expect: str, cmd: str = "train", **kw) -> Case:
        return Case("config file", name, ("cli", cmd, "--config", "c.yaml", "--out", "out"),
                    expect, {"c.yaml": text}, **kw)

    return [
        cfg("an empty file", "", "c\\.yaml.*empty|empty.*c\\.yaml"),
        cfg("only a comment", "# nothing\n", "c\\.yaml"),
        cfg("null", "null\n", "c\\.yaml"),
        cfg("a list", "[1, 2]\n", "c\\.yaml"),
        cfg("a string", "digits\n", "c\\.yaml"),
        cfg("unknown key", config(colour=1), "colour"),
        cfg("unknown env key", config({"colour": 1}), "colour"),
        cfg("env null", yaml.safe_dump({**CONFIG, "env": None}), "env"),
        cfg("timesteps a float", config(timesteps=8.0), "timesteps"),
        cfg("timesteps a numeric string", config(timesteps="8"), "timesteps"),
        cfg("timesteps beyond int64", config(timesteps=2**70), "timesteps"),
        cfg("n_steps 0", config(n_steps=0), "n_steps"),
        cfg("n_steps beyond int64", config(n_steps=2**70), "n_steps"),
        cfg("batch_size does not divide n_steps", config(n_steps=4, batch_size=3), "batch_size"),
        cfg("batch_size exceeds the rollout", config(n_steps=4, batch_size=64), "batch_size"),
        cfg("batch_size 1 (SB3's advantage normalisation)", config(batch_size=1), "batch_size"),
        cfg("n_epochs beyond int64", config(n_epochs=2**70), "n_epochs"),
        cfg("n_envs 0", config(n_envs=0), "n_envs"),
        cfg("n_envs beyond int64", config(n_envs=2**70), "n_envs"),
        cfg("learning_rate infinite", config(learning_rate=float("inf")), "learning_rate"),
        cfg("learning_rate negative", config(learning_rate=-1.0), "learning_rate"),
        cfg("gamma 1.5", config(gamma=1.5), "gamma"),
        cfg("seed beyond int64", config(seed=2**70), "seed"),
        cfg("seed a boolean", config(seed=True), "seed"),
        cfg("eval_every 0", config(eval_every=0), "eval_every"),
        cfg("checkpoint_every negative", config(checkpoint_every=-4), "checkpoint_every"),
        cfg("eval_episodes beyond int64", config(eval_episodes=2**70), "eval_episodes"),
        cfg("compare_episodes 10**12", config(compare_episodes=10**12), "compare_episodes"),
        cfg("net_arch empty", config(net_arch=[]), "net_arch"),
        cfg("net_arch a zero width", config(net_arch=[0]), "net_arch"),
        cfg("learner unknown", config(learner="dqn"), "learner"),
        cfg("warm_start a missing policy", config(warm_start="policy:nowhere"), "warm_start"),
        Case("config file", "name leads outside (the default run directory)",
             ("cli", "train", "--config", "c.yaml"), "name",
             {"c.yaml": config(name="../../escape")}),
        cfg("env.max_steps a float", config({"max_steps": 1.0}), "max_steps"),
        cfg("env.max_steps beyond int64", config({"max_steps": 2**70}), "max_steps"),
        cfg("env.crossbar_sizes holds a boolean", config({"crossbar_sizes": [16, True]}),
            "crossbar_sizes"),
        cfg("env.crossbar_sizes beyond int64", config({"crossbar_sizes": [16, 2**70]}),
            "crossbar_sizes"),
        cfg("env.prune_levels empty", config({"prune_levels": []}), "prune_levels"),
        cfg("env.prune_levels booleans", config({"prune_levels": [True, False]}),
            "prune_levels"),
        cfg("env.torch_threads beyond int64", config({"torch_threads": 2**70}), "torch_threads"),
        cfg("env.snn_timesteps a float", config({"snn_timesteps": 35.0}), "snn_timesteps"),
        cfg("env.val_size beyond int64", config({"val_size": 2**70}), "val_size"),
        cfg("env.seed beyond int64", config({"seed": 2**70}), "seed"),
        cfg("env.technology a missing file", config({"technology": "nope.yaml"}),
            "technology"),
        cfg("a YAML tag that runs code", f"name: {TOUCH}\n", "tag|python/object"),
        cfg("a YAML merge of an anchor bomb", "a: &a [1, 2]\nb: *a\n" + config(), "'a'|a|b"),
        cfg("tab-indented garbage", "env:\n\t- x\n", "c\\.yaml"),
        Case("config file", "a named pipe (FIFO)",
            ("cli", "train", "--config", "c.yaml", "--out", "out"), "c\\.yaml",
            {"c.yaml": Fifo()}, timeout=10),
        Case("config file", "a directory", ("cli", "train", "--config", "c.yaml", "--out", "out"),
             "c\\.yaml", {"c.yaml/x": "1"}),
        Case("config file", "search: batch_size does not divide n_steps",
             ("cli", "search", "--config", "c.yaml", "--out", "out"), "batch_size",
             {"c.yaml": config(n_steps=4, batch_size=3)}),
        Case("config file", "compare: an empty file",
             ("cli", "compare", "--config", "c.yaml", "--out", "out"), "c\\.yaml",
             {"c.yaml": ""}),
        Case("config file", "benchmark: unknown env key",
             ("cli", "benchmark", "--config", "c.yaml", "--seeds", "0", "--out", "out"),
             "colour", {"c.yaml": config({"colour": 1})}),
    ]


def schedule_cases() -> list[Case]:
    """A ``best_schedule.json`` (``replay``) and a state document (``reset(options=)``)."""
    def doc(name: str, text: str, expect: str, **kw) -> Case:
        return Case("replay/state document", name, ("cli", "replay", "s.json"), expect,
                    {"s.json": text}, **kw)

    def state(name: str, change: str, expect: str) -> Case:
        code = (SMALL + "env = tnf_env.make(**SMALL)\nenv.reset(seed=0)\n"
                "s = dict(env.unwrapped.get_state())\n" + change +
                "\nenv.reset(options={'state': s})")
        return Case("replay/state document", f"state: {name}", ("py", code), expect)

    return [
        doc("unknown top-level key", schedule(colour=1), "colour"),
        doc("unknown env key", schedule(env={**SCHEDULE["env"], "colour": 1}), "colour"),
        doc("surplus actions beyond max_steps", schedule(actions=[[0] * 8] * 5), "actions"),
        doc("an action too short", schedule(actions=[[0] * 7]), "actions"),
        doc("an action too long", schedule(actions=[[0] * 9]), "actions"),
        doc("an action entry out of range", schedule(actions=[[99] + [0] * 7]), "actions"),
        doc("an action entry beyond int64", schedule(actions=[[2**70] + [0] * 7]), "actions"),
        doc("a negative action entry", schedule(actions=[[-1] + [0] * 7]), "actions"),
        doc("a boolean action entry", schedule(actions=[[True] + [0] * 7]), "actions"),
        doc("actions nested deeper", schedule(actions=[[[0]] * 8]), "actions"),
        doc("actions missing", schedule(drop=("actions",)), "actions"),
        doc("actions null", schedule(actions=None), "actions"),
        doc("seed a float", schedule(seed=1.0), "seed"),
        doc("seed a boolean", schedule(seed=True), "seed"),
        doc("seed 1e999 (infinity)", schedule().replace('"seed": 0', '"seed": 1e999'), "seed"),
        doc("seed beyond int64", schedule(seed=2**70), "seed"),
        doc("NaN literal in metrics", schedule().replace('"cost": 1.0', '"cost": NaN'),
            "metrics|cost"),
        doc("metrics a numeric string", schedule(metrics={"cost": "1"}), "metrics|cost"),
        doc("metrics an unknown name", schedule(metrics={"colour": 1}), "metrics|colour"),
        doc("torch_threads 0", schedule(torch_threads=0), "torch_threads"),
        doc("torch_threads beyond int64", schedule(torch_threads=2**70), "torch_threads"),
        doc("env.max_steps beyond int64", schedule(env={**SCHEDULE["env"], "max_steps": 2**70}),
            "max_steps"),
        doc("env.crossbar_sizes a float", schedule(env={**SCHEDULE["env"],
                                                        "crossbar_sizes": [16.0, 32]}),
            "crossbar_sizes"),
        doc("env a list", schedule(env=[1]), "env"),
        doc("episode_return a string", schedule(episode_return="1"), "episode_return"),
        doc("trailing garbage", schedule() + "xyz", "s\\.json"),
        doc("a UTF-16 file", schedule().encode("utf-16").decode("latin-1"), "s\\.json"),
        doc("an empty file", "", "s\\.json"),
        doc("a number", "5", "s\\.json"),
        Case("replay/state document", "a named pipe (FIFO)", ("cli", "replay", "s.json"),
             "s\\.json", {"s.json": Fifo()}, timeout=10),
        Case("replay/state document", "/dev/zero", ("cli", "replay", "/dev/zero"), "/dev/zero",
             timeout=10),
        Case("replay/state document", "a directory", ("cli", "replay", "s.json"), "s\\.json",
             {"s.json/x": "1"}),
        Case("replay/state document", "--render DIR is an existing file",
             ("cli", "replay", "s.json", "--render", "keep.txt"), "render|keep\\.txt",
             {"s.json": schedule(), "keep.txt": "mine"}, keep=("keep.txt",)),
        state("unknown key", "s['colour'] = 1", "colour"),
        state("surplus actions", "s['actions'] = [[0] * 8] * 5", "actions"),
        state("an action too long", "s['actions'] = [[0] * 20]", "actions"),
        state("an action beyond int64", "s['actions'] = [[2**70] + [0] * 7]", "actions"),
        state("seed beyond int64", "s['seed'] = 2**70", "seed"),
        state("env of another task", "s['env'] = dict(s['env'], topology='64-16-10')",
              "topology|env"),
        state("metrics infinite", "s['metrics'] = {'cost': float('inf')}", "metrics|cost"),
        Case("replay/state document", "reset(options=) an unknown option",
             ("py", SMALL + "env = tnf_env.make(**SMALL)\nenv.reset(options={'stat': {}})"),
             "stat"),
        Case("replay/state document", "reset(options=) a number",
             ("py", SMALL + "env = tnf_env.make(**SMALL)\nenv.reset(options=5)"), "options"),
    ]


def cases() -> list[Case]:
    """Every case of the sweep, surface by surface."""
    from bad_input_cases_calls import api_cases, flag_cases, make_vec_cases, set_cases
    from bad_input_cases_data import dataset_cases, network_cases, policy_cases

    return [*technology_cases(), *config_cases(), *schedule_cases(), *network_cases(),
            *dataset_cases(), *policy_cases(), *flag_cases(), *set_cases(), *api_cases(),
            *make_vec_cases()]
