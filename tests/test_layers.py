"""The layout is the architecture: imports only point down the layers of docs/design.md.

hwmodel imports nothing of ours, tnf_env nothing of agents; inside tnf_env
validation <- settings <- data <- model <- transform, measure <- the environment modules at
its top (settings, a leaf, import no registry: the registries tell them their names); inside
agents
common <- rl <- search <- experiments <- cli. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (package, layer): a module may import its own package and packages of lower layers.
LAYERS = {
    "hwmodel": 0,
    # The settings are a leaf under every registry, which tell them their names.
    "tnf_env.validation": 0.1,
    "tnf_env.settings": 0.2,
    "tnf_env.data": 1,
    "tnf_env.model": 2,
    "tnf_env.transform": 3,
    "tnf_env.measure": 3,
    "tnf_env": 4,  # the environment: the modules at the package's top
    "agents.common": 5,
    "agents.rl": 6,
    "agents.search": 7,
    "agents.experiments": 8,
    "agents.cli": 9,
    "agents": 10,
}


def unit(module: str) -> str:
    """The layer a dotted module name belongs to (its longest listed prefix)."""
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in LAYERS:
            return ".".join(parts[:k])
    raise KeyError(module)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import of ours in ``path``."""
    rel = path.relative_to(ROOT).with_suffix("")
    name = ".".join(rel.parts)
    package = name.removesuffix(".__init__") if rel.name == "__init__" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] if node.module or not node.level else [
                f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        out += [(node.lineno, t) for t in targets if t.split(".")[0] in ("hwmodel", "tnf_env",
                                                                       "agents")]
    return out


FILES = sorted(p for top in ("hwmodel", "tnf_env", "agents") for p in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_imports_point_down_the_layers(path):
    rel = path.relative_to(ROOT).with_suffix("")
    own = unit(".".join(rel.parts).removesuffix(".__init__"))
    for line, target in imports(path):
        other = unit(target)
        assert other == own or LAYERS[other] < LAYERS[own], (
            f"{path.relative_to(ROOT)}:{line} ({own}) imports {target} ({other})"
        )
