"""Compatibility path for ``python -m spatial_r1_eval.stack_check``: see :mod:`spatial_r1_eval.commands.stack_check`.

Not part of the core.
"""

from spatial_r1_eval.commands.stack_check import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
