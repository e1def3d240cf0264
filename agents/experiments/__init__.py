"""Experiments: a Method registry, one study runner, one results writer and report.

:mod:`.methods` (what a row delivers and spends: a ``MethodResult``), :mod:`.study` (seeds
x crossbar sizes x methods over a :class:`~.study.StudyContext`, the work its methods
share; resumable), :mod:`.report` (``results.json``,
``results.md`` and figures), :mod:`.flags` (the flags every study shares),
:mod:`.configs` (the studies' settings, free of torch: the command line's flags).
``reproduce``, ``benchmark`` and ``compare`` are studies defined with them
(:mod:`.reproduce`, :mod:`.benchmark`, :mod:`.compare`, whose summary is
:mod:`.compare_report`).

Below them: :mod:`.episodes` (an ``EpisodeRunner`` per set of settings) runs a policy's
episode, hands back the ``DeliveredNetwork`` and scores it through the one scoring path,
and tunes fixed schedules on validation (the criterion of :mod:`agents.search.baseline`);
:mod:`.frontier` reads each method's cost at iso-accuracy; :mod:`.results` and
:mod:`.stats` summarise rows over seeds; :mod:`.figures` draws them.
"""
