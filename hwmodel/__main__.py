"""``python -m hwmodel``: see :mod:`hwmodel.cli`."""

import sys

from hwmodel.cli import main

sys.exit(main())
