"""The layering contracts (``[tool.importlinter]`` in pyproject.toml, run by ``make lint`` through
``tools/lint_imports.py``): kept by the tree, and broken — with the contract's name and the offending import in the
message — when a staged copy of the package gets a forbidden import."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("importlinter", reason="import-linter is in the dev extra (make setup installs it)")

_spec = importlib.util.spec_from_file_location("lint_imports", ROOT / "tools" / "lint_imports.py")
lint_imports = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lint_imports)


def _with_import(tree: Path, module: str, statement: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    source = path.read_text()
    path.unlink()  # staged files are hard links to the repository's: never write through them
    path.write_text(source + f"\n\ndef _added():\n    {statement}\n")


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    lint_imports.stage(tmp_path)
    done = lint_imports.lint(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout
    # the staged tree holds every package, so the contracts saw the whole code base
    assert (tmp_path / "spatial_r1_eval" / "generation" / "pipeline.py").is_file()
    assert (tmp_path / "spatial_r1_eval" / "commands" / "cli.py").is_file()


@pytest.mark.parametrize(
    ("module", "statement", "contract", "edge"),
    [
        (
            "spatial_r1_eval.questions",
            "import spatial_r1_eval.generation.pipeline",
            "The scoring core imports nothing of ours above it BROKEN",
            "spatial_r1_eval.questions -> spatial_r1_eval.generation.pipeline",
        ),
        (
            "spatial_r1_eval.scoring",
            "from spatial_r1_eval.tasks import hooks",
            "The scoring core imports nothing of ours above it BROKEN",
            "spatial_r1_eval.scoring -> spatial_r1_eval.tasks.hooks",
        ),
        (
            "spatial_r1_eval.records",
            "from spatial_r1_eval.trainer import data",
            "The scoring core imports nothing of ours above it BROKEN",
            "spatial_r1_eval.records -> spatial_r1_eval.trainer.data",
        ),
        (
            "spatial_r1_eval.generation.filters",
            "from spatial_r1_eval.trainer import rewards",
            "Layers: commands > audit > trainer",
            "spatial_r1_eval.generation.filters -> spatial_r1_eval.trainer.rewards",
        ),
        (
            "spatial_r1_eval.leaderboard.table",
            "from spatial_r1_eval.generation import pipeline",
            "Layers: commands > audit > trainer",
            "spatial_r1_eval.leaderboard.table -> spatial_r1_eval.generation.pipeline",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, statement: str, contract: str, edge: str):
    lint_imports.stage(tmp_path)
    _with_import(tmp_path, module, statement)
    done = lint_imports.lint(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert contract in done.stdout
    assert "0 broken" not in done.stdout
    assert edge in done.stdout
    # the repository's own file is untouched
    assert statement not in (ROOT / lint_imports.source_of(module)).read_text()
