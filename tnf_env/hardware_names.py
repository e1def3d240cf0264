"""What the settings allow of hwmodel: its technology presets and files, its accountings.

hwmodel imports nothing of ours, so this module tells :mod:`tnf_env.settings` its names
and checks (:func:`tnf_env.settings.provide`); the settings import it when a technology
or an accounting is first checked or described.
"""

from __future__ import annotations

from typing import Any

from hwmodel.accounting import ACCOUNTINGS
from hwmodel.technology import Technology, TechnologyError, get_technology, preset_names

from .settings import provide


def _is_technology(value: Any) -> bool:
    return isinstance(value, Technology)


provide(
    preset_names=preset_names,
    get_technology=get_technology,
    technology_error=TechnologyError,
    is_technology=_is_technology,
    accountings=ACCOUNTINGS,
    accounting_names=lambda: ", ".join(ACCOUNTINGS),
)
