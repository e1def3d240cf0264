"""What every command shares: output directories checked and locked before any work,
atomic writes and the append-only journal (:mod:`.outputs`), and the plain files that
hold delivered networks, read back without unpickling (:mod:`.netstore`), and the one
override syntax of every command, ``--set a.b=value`` (:mod:`.overrides`).

Depends on nothing in ``agents`` (safe YAML/JSON reading is :mod:`hwmodel.safeload`;
the environment's setting names are :class:`tnf_env.settings.EnvConfig`'s).
"""
