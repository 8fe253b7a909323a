"""The committed locks agree with ``pyproject.toml`` and with the venv the suite runs in (requirements/verify.py).

The venv is checked against the lock it was installed from (``vllm.lock`` where vLLM is installed, else
``main.lock``). The failure cases edit copies of the real files: a package line deleted from the lock, a dependency
added to ``pyproject.toml`` without re-locking, a range the pinned version no longer satisfies.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("verify", REPO / "requirements" / "verify.py")
verify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify)

LOCK = REPO / "requirements" / ("vllm.lock" if importlib.util.find_spec("vllm") else "main.lock")


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of this venv's lock (with its .in) and of pyproject.toml."""
    shutil.copy(LOCK.with_suffix(".in"), tmp_path / LOCK.with_suffix(".in").name)
    return Path(shutil.copy(LOCK, tmp_path / LOCK.name)), Path(shutil.copy(REPO / "pyproject.toml", tmp_path))


def test_lock_matches_pyproject_and_the_installed_venv() -> None:
    assert verify.problems(LOCK) == []


def test_every_locked_package_has_hashes_and_no_index_url_is_committed() -> None:
    text = LOCK.read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 3)[3])
    assert len(entries) == len(verify.pins(LOCK)) > 100
    assert all("--hash=sha256:" in entry for entry in entries)
    for lock in REPO.glob("requirements/*.lock"):
        assert not re.search(r"--(extra-)?index-url|--find-links|https?://|file://", lock.read_text()), lock


def test_deleting_a_package_line_from_the_lock_is_caught(copies) -> None:
    lock, pyproject = copies
    assert verify.problems(lock, pyproject) == []
    # a transitive package (six, needed by python-dateutil) and a direct one (filelock, pyproject's bound)
    for name in ("six", "filelock"):
        lines = lock.read_text().splitlines()
        lock.write_text("\n".join(ln for ln in lines if not ln.startswith(f"{name}==")) + "\n")
        found = verify.problems(lock, pyproject)
        assert any(f"does not pin {name}" in p and "make lock" in p for p in found), found


def test_a_dependency_added_to_pyproject_without_relocking_is_caught(copies) -> None:
    lock, pyproject = copies
    text = pyproject.read_text()
    pyproject.write_text(text.replace("dependencies = [\n", 'dependencies = [\n    "pyfiglet>=1.0",\n', 1))
    found = verify.problems(lock, pyproject)
    assert any("other inputs than today's pyproject.toml" in p and "make lock" in p for p in found), found
    assert any("does not pin pyfiglet (required by pyproject.toml" in p for p in found), found


def test_a_range_the_pinned_version_leaves_is_caught(copies) -> None:
    lock, pyproject = copies
    pinned = verify.pins(lock)["filelock"]
    pyproject.write_text(pyproject.read_text().replace('"filelock<4.3"', f'"filelock>{pinned}"'))
    found = verify.problems(lock, pyproject)
    assert any(f"pins filelock=={pinned}" in p and "make lock" in p for p in found), found


def test_restamping_after_relocking_clears_the_digest_problem(copies) -> None:
    lock, pyproject = copies
    pyproject.write_text(pyproject.read_text().replace('"tabulate>=0.10"', '"tabulate>=0.9"'))
    assert any("other inputs" in p for p in verify.problems(lock, pyproject))
    verify.stamp(lock, pyproject)  # what make lock does after uv rewrote the file
    assert verify.problems(lock, pyproject) == []
