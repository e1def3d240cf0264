#!/usr/bin/env python
"""Command-line front of the TraNNsformer gym: ``python train_agent.py --help``."""

import sys

from agents.cli import main

if __name__ == "__main__":
    sys.exit(main())
