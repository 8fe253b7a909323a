"""Compatibility path: the ``spatial-r1`` command line lives in :mod:`spatial_r1_eval.commands.cli`.

Kept so that ``python -m spatial_r1_eval.cli`` and ``from spatial_r1_eval.cli import main`` (console scripts of
installs older than the move) keep working. Not part of the core.
"""

from spatial_r1_eval.commands.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
