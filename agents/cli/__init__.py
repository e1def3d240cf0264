"""The command line: ``python train_agent.py COMMAND`` or ``tnf COMMAND``.

:mod:`.commands` (every subcommand but ``compare``, the parser, :func:`main`),
:mod:`.compare` (the ``compare`` subcommand) and :mod:`.checks` (the flag and file
checks they share, made before any work). Nothing below the CLI imports it.
"""

from .commands import build_parser, main, tnf_main

__all__ = ["build_parser", "main", "tnf_main"]
