"""Run import-linter's contracts (``[tool.importlinter]`` in ``pyproject.toml``) on the package as it is installed.

The source tree maps sub-packages from top-level folders (``package-dir``: ``generation/`` is
``spatial_r1_eval.generation``, ...), which import-linter cannot follow: it walks the root package's folder. So this
script lays the package out as installed — a temporary tree of hard links (or copies) of the ``.py`` files, built
from ``package-dir`` — puts it first on ``sys.path`` and runs ``lint-imports``. Exit status: lint-imports' own
(0 when every contract is kept).

Usage: ``python tools/lint_imports.py`` (``make lint`` runs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def source_of(module: str) -> Path:
    """The repository path (relative to the root) of a module of ours, through ``package-dir``.

    >>> str(source_of("spatial_r1_eval.generation.pipeline"))
    'generation/pipeline.py'
    """
    mapping: dict[str, str] = _setuptools()["package-dir"]
    parent = max((p for p in mapping if module == p or module.startswith(p + ".")), key=len)
    rest = module[len(parent) + 1 :].replace(".", "/")
    folder = Path(mapping[parent]) / rest
    return folder / "__init__.py" if (ROOT / folder).is_dir() else folder.with_suffix(".py")


def stage(tree: Path) -> None:
    """Write the installed layout of every package in ``package-dir`` under ``tree`` (``.py`` files only).

    Files are hard links where the file system allows: replace a staged file (unlink, then write) rather than
    writing into it.
    """
    for package in _setuptools()["packages"]:
        source = ROOT / source_of(package).parent
        target = tree / package.replace(".", "/")
        target.mkdir(parents=True, exist_ok=True)
        for py in source.glob("*.py"):
            try:
                os.link(py, target / py.name)
            except OSError:
                shutil.copy2(py, target / py.name)


def lint(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on a staged ``tree`` (see :func:`stage`); output captured."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    linter = Path(sys.executable).with_name("lint-imports")
    cmd = [str(linter) if linter.exists() else "lint-imports", "--no-logo", "--no-cache", str(ROOT / "pyproject.toml")]
    return subprocess.run([*cmd, *args], env=env, cwd=tree, capture_output=True, text=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="lint-imports-") as tmp:
        stage(Path(tmp))
        done = lint(Path(tmp), *sys.argv[1:])
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
