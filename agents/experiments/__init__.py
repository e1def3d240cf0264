"""Experiments: a Method registry, one study runner, one results writer and report.

:mod:`.methods` (what a row delivers and spends), :mod:`.study` (seeds x crossbar sizes x
methods over a :class:`~.study.Lab`, resumable), :mod:`.report` (``results.json``,
``results.md`` and figures). ``reproduce``, ``benchmark`` and ``compare`` are studies
defined with them (:mod:`agents.reproduce`, :mod:`agents.benchmark`, :mod:`agents.compare`).
"""
