"""Run the ``>>>`` examples of every module in the package (core and satellites)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

# ``__main__`` runs the command line when imported.
SKIP_PREFIXES = ("spatial_r1_eval.__main__",)


def _modules() -> list[str]:
    names = ["spatial_r1_eval"]
    for sub in ("", ".generation", ".tasks", ".trainer", ".leaderboard", ".audit"):
        pkg = importlib.import_module("spatial_r1_eval" + sub)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
            if not info.name.startswith(SKIP_PREFIXES) and info.name not in names:
                names.append(info.name)
    return sorted(set(names))


@pytest.mark.parametrize("module_name", _modules())
def test_doctests(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {module_name}"
