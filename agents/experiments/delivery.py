"""Which step's network a row delivers, and when that means the method did little or nothing.

An episode delivers its latest step meeting the floor on validation
(:mod:`tnf_env.measure.selection`). Two outcomes look like success in a table but are not:

- **untouched**: step 0 was delivered, the dense network itself (no step met the floor,
  or the episode stopped at once): the budget was too short or the floor too strict;
- **fell back**: the last step missed the floor and an earlier step's network was handed
  back: the steps after it were spent for nothing (the schedule pruned harder than its
  retraining recovered).

A row records ``delivered_step`` and, when an episode made its network, ``last_step``
(rows without it, the dense ``original`` or a network made without an episode, are never
flagged). :func:`delivery_cell` writes a table cell, :func:`delivery_warning` the console
line.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..rl.policies import FELL_BACK, UNTOUCHED, delivery_flag

__all__ = ["FELL_BACK", "NOTE", "UNTOUCHED", "delivery_cell", "delivery_warning", "flag", "flagged",
           "step_text", "table_notes"]

NOTE = (
    "Delivered step: the step of its episode whose network the row scores, of the "
    "episode's last step, per seed. *fell back*: the last step missed the floor on "
    "validation and an earlier network was handed back; *untouched*: step 0, the dense "
    "network itself, was delivered (the method did nothing)."
)


def flag(row: dict) -> str:
    """``"untouched"``, ``"fell back"`` or ``""`` (the last step's network, or no episode).

    :param row: a result row with ``delivered_step`` and, for episodes, ``last_step``.
    """
    return delivery_flag(row.get("delivered_step"), row.get("last_step"))


def step_text(row: dict) -> str:
    """``"3/3"`` (delivered / last step), with its flag: ``"1/3 fell back"``; a row made
    without an episode shows its delivered step alone."""
    if row.get("last_step") is None:
        return str(row.get("delivered_step", "-"))
    text = f"{row['delivered_step']}/{row['last_step']}"
    return f"{text} {flag(row)}" if flag(row) else text


def delivery_cell(rows: Sequence[dict]) -> str:
    """One table cell for the rows of one method (one per seed, in seed order)."""
    return ", ".join(step_text(r) for r in rows) or "-"


def flagged(rows: Sequence[dict]) -> bool:
    """Whether any of ``rows`` is flagged."""
    return any(flag(r) for r in rows)


def table_notes(flagged_rows: Sequence[str]) -> list[str]:
    """The lines under a table: what its delivered-step column means and, when some rows
    did not deliver their last step, a warning naming them.

    :param flagged_rows: one label per flagged row, e.g. ``"`paper` (N = 32): fell back"``.
    """
    lines = [NOTE]
    if flagged_rows:
        lines += ["", "**Warning**: rows that did not deliver their last step: "
                  + "; ".join(flagged_rows) + ". The steps after the delivered one did nothing "
                  "(untouched: none did): give each step more retraining or prune more gently."]
    return lines


def delivery_warning(row: dict, advice: str) -> str | None:
    """One console line for a flagged row (None when it is not flagged).

    :param row: a result row (``method``, ``seed``, ``crossbar_size``, the steps).
    :param advice: what to change, in the command's own terms (e.g. ``"raise --epochs"``).
    """
    kind = flag(row)
    if not kind:
        return None
    where = f"{row['method']} (seed {row['seed']}, N={row['crossbar_size']})"
    if kind == UNTOUCHED:
        why = ("its episode stopped before its first step" if row["last_step"] == 0 else
               "no step met the floor on validation; budget too short or floor too strict")
        return (f"warning: {where} delivered step 0 of {row['last_step']}, the untouched "
                f"dense network: {why}: {advice}")
    return (f"warning: {where} fell back to step {row['delivered_step']}: its last step "
            f"({row['last_step']}) missed the floor on validation, so an earlier network was "
            f"handed back and the steps after it did nothing: {advice}")
