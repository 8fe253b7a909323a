"""The commands: the ``spatial-r1`` dispatcher and the commands that cross layers.

* :mod:`~spatial_r1_eval.commands.cli` — the ``spatial-r1`` entry point (one module per subcommand);
* :mod:`~spatial_r1_eval.commands.evaluate` — ``spatial-r1 eval`` (lmms-eval + leaderboard);
* :mod:`~spatial_r1_eval.commands.demo` — ``spatial-r1 demo`` (generation → evaluation → leaderboard → training);
* :mod:`~spatial_r1_eval.commands.stack_check` — ``make setup``'s check that the installed stack runs.

Subcommands that belong to one layer live with it (``generation/generate_cli.py``, ``leaderboard/cli.py``,
``trainer/cli.py``, ``audit/cli.py``, ...). This package is the top layer: it may import anything; nothing imports
it (``[tool.importlinter]`` in ``pyproject.toml``).
"""
