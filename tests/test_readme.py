"""The README is a short front door, and the documents it leads to hold together.

- the Python examples of README.md and docs/ run as written;
- README.md stays at most 250 lines, steps the registered environment and lists
  every subcommand of ``train_agent.py`` in its command table;
- docs/environment.md's settings table lists every environment setting;
- every relative link and image in README.md and docs/ points to a file that
  exists (and to a heading of it, when the link names one);
- every table in docs/results is followed by its caption, ``*Table: commit C, ...*``,
  and a command that reproduces it stands in the caption or the text above it.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250

CODE_BLOCK = re.compile(r"^```.*?^```", flags=re.S | re.M)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CAPTION = re.compile(r"^\*Table: commit [0-9a-f]{7,40}\b")
# A command in backticks (or a shell block) that reproduces a table.
COMMAND = re.compile(r"`[^`]*\b(python|make|train_agent\.py|benchmarks/)[^`]*`|```bash")


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def prose(path: Path) -> str:
    """The file's text without its fenced code blocks."""
    return CODE_BLOCK.sub("", path.read_text())


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in prose(path).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            base = slug(match.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def test_readme_python_blocks_run(capsys):
    torch.set_num_threads(1)
    blocks = PYTHON_BLOCK.findall(README.read_text())
    assert blocks, "README has no python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "accuracy" in out and "crossbars" in out


@pytest.mark.parametrize("path", sorted(DOCS.rglob("*.md")), ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_python_blocks_run(path, capsys):
    torch.set_num_threads(1)
    for block in PYTHON_BLOCK.findall(path.read_text()):
        exec(compile(block, str(path), "exec"), {})


def test_readme_is_a_front_door():
    text = README.read_text()
    n_lines = len(text.splitlines())
    assert n_lines <= MAX_README_LINES, f"README.md: {n_lines} lines, at most {MAX_README_LINES}"
    example = "\n".join(PYTHON_BLOCK.findall(text))
    assert 'make("tnf_env/TraNNsformer-v0"' in example, "the example steps the registered env"
    assert "make test" in text and "train_agent.py train" in text


def test_readme_command_table_lists_every_subcommand():
    from agents.cli.commands import build_parser

    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    listed = {re.match(r"\| `([^`]+)`", row).group(1) for row in rows}
    missing = sorted(set(sub.choices) - listed)
    assert not missing, f"README's command table lacks {missing}"


def test_environment_doc_lists_every_setting():
    """The table is the settings' own fields (default and meaning), written out by
    ``python -m tnf_env.settings``: paste its output when a setting changes."""
    from tnf_env.settings import EnvConfig, settings_table

    table = (DOCS / "environment.md").read_text()
    missing = sorted(n for n in EnvConfig.model_fields if f"| `{n}` |" not in table)
    assert not missing, f"docs/environment.md's settings table lacks {missing}"
    assert settings_table() in table, "docs/environment.md's settings table is out of date"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = []
    for target in LINK.findall(prose(path)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{path.relative_to(ROOT)}: broken links {broken}"


def test_docs_results_exist_and_readme_links_them():
    results = sorted((DOCS / "results").glob("*.md"))
    assert len(results) > 1
    index = (DOCS / "results" / "README.md").read_text()
    for path in results:
        if path.name != "README.md":
            assert f"({path.name})" in index, f"docs/results/README.md does not list {path.name}"
    assert "docs/results/" in README.read_text()


@pytest.mark.parametrize("path", sorted((DOCS / "results").glob("*.md")), ids=lambda p: p.name)
def test_every_results_table_has_commit_and_command(path):
    lines = prose(path).splitlines()
    start = 0  # where the text that introduces the next table begins
    i = 0
    n_tables = 0
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        n_tables += 1
        end = i
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        caption = next((line for line in lines[end:] if line.strip()), "")
        where = f"{path.name}, table at line {i + 1}"
        assert CAPTION.match(caption), f"{where}: no '*Table: commit C, ...*' caption"
        introduced = "\n".join(lines[start:i]) + "\n" + caption
        raw = path.read_text()  # the command may stand in a ```bash block above
        assert COMMAND.search(caption) or COMMAND.search(introduced) or (
            "```bash" in raw[: raw.find(lines[i])]
        ), f"{where}: no command in its caption or the text above it"
        start = i = end
    if path.name != "README.md":
        assert n_tables, f"{path.name} holds no measured table"
