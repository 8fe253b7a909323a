"""Keep ``requirements/*.lock`` and ``pyproject.toml`` in step (used by ``make lock``, ``make setup`` and the tests).

Commands (run with the venv's Python; only the standard library and ``packaging`` are needed)::

    python requirements/verify.py stamp requirements/main.lock    # after uv wrote it: record the inputs' digest
    python requirements/verify.py check requirements/main.lock    # inputs unchanged, venv == lock, closure
    python requirements/verify.py moved requirements/main.lock    # packages installed at another version

A lock records, in a ``# inputs-sha256:`` line, the digest of what it was resolved from: ``requires-python``, the
dependency lists of ``pyproject.toml`` (main + the extras the lock installs) and the ``.in`` file beside it. Any
change to those without ``make lock`` makes :func:`problems` report it, and so does a lock with a package line
deleted (a locked or pyproject requirement that the lock no longer pins) or a pin that nothing requires.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = HERE.parent / "pyproject.toml"
# Which pyproject extras each lock installs (with pyproject's main dependencies and its .in file).
EXTRAS = {"main": ("test", "dev"), "vllm": ("gpu", "test", "dev")}
DIGEST_PREFIX = "# inputs-sha256: "
FIX = "run `make lock` (then `make setup`) and commit the lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def canonicalize_name(name: str) -> str:
    """PEP 503 normalised name (``Foo_Bar`` → ``foo-bar``), as ``packaging.utils.canonicalize_name``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_name(lock: Path) -> str:
    """``requirements/main.lock`` → ``"main"``."""
    name = Path(lock).name.removesuffix(".lock")
    if name not in EXTRAS:
        raise ValueError(f"{lock}: unknown lock (expected one of {sorted(f'{n}.lock' for n in EXTRAS)})")
    return name


def inputs(lock: Path, pyproject: Path = PYPROJECT) -> dict:
    """What ``lock`` is resolved from: requires-python, pyproject's lists for its extras, its ``.in`` lines."""
    name = lock_name(lock)
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    optional = project.get("optional-dependencies", {})
    in_file = Path(lock).with_suffix(".in")
    lines = [ln.split("#", 1)[0].strip() for ln in in_file.read_text().splitlines()] if in_file.exists() else []
    return {
        "requires-python": project.get("requires-python", ""),
        "dependencies": project.get("dependencies", []),
        "extras": {extra: optional.get(extra, []) for extra in EXTRAS[name]},
        "in": [ln for ln in lines if ln],
    }


def digest(lock: Path, pyproject: Path = PYPROJECT) -> str:
    """sha256 of :func:`inputs` (stable JSON)."""
    return hashlib.sha256(json.dumps(inputs(lock, pyproject), sort_keys=True).encode()).hexdigest()


def pins(lock: Path) -> dict[str, str]:
    """``{canonical name: version}`` of the ``name==version`` lines of a lock."""
    found: dict[str, str] = {}
    for line in Path(lock).read_text().splitlines():
        m = _PIN.match(line)
        if m:
            found[canonicalize_name(m.group(1))] = m.group(2)
    return found


def stamp(lock: Path, pyproject: Path = PYPROJECT) -> None:
    """Append (or replace) the inputs digest line of ``lock``."""
    text = [ln for ln in Path(lock).read_text().splitlines() if not ln.startswith(DIGEST_PREFIX)]
    text.insert(2 if len(text) > 2 else len(text), DIGEST_PREFIX + digest(lock, pyproject))
    Path(lock).write_text("\n".join(text) + "\n")


def _roots(lock: Path, pyproject: Path) -> list:
    from packaging.requirements import Requirement

    spec = inputs(lock, pyproject)
    reqs = list(spec["dependencies"]) + [r for extra in spec["extras"].values() for r in extra] + spec["in"]
    return [Requirement(r) for r in reqs]


def closure_problems(lock: Path, pyproject: Path = PYPROJECT) -> list[str]:
    """Requirements (pyproject's, then each locked package's, from its installed metadata) the lock does not pin
    or pins outside their range, and pins that nothing requires."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    locked = pins(lock)
    env = default_environment()
    seen: dict[str, set[str]] = {}
    problems: list[str] = []
    todo = [(req, "pyproject.toml / " + Path(lock).with_suffix(".in").name) for req in _roots(lock, pyproject)]
    while todo:
        req, parent = todo.pop()
        name = canonicalize_name(req.name)
        if name == "spatial-r1-eval":  # the project's own extras (none refer to it today)
            continue
        if name not in locked:
            problems.append(f"{Path(lock).name} does not pin {req.name} (required by {parent}): {FIX}")
            continue
        if req.specifier and not req.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{Path(lock).name} pins {name}=={locked[name]}, {parent} requires {req}: {FIX}")
        extras = set(req.extras) | {""}
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is pinned in {Path(lock).name} but not installed: run `make setup`")
            continue
        for line in requires:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({**env, "extra": e}) for e in extras):
                todo.append((sub, f"{name}=={locked[name]}"))
    for name in sorted(set(locked) - set(seen)):
        problems.append(f"{Path(lock).name} pins {name}, which nothing requires: {FIX}")
    return problems


def moved(lock: Path) -> list[str]:
    """Locked packages whose installed version differs (``name lock -> installed``)."""
    out = []
    for name, version in sorted(pins(lock).items()):
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "not installed"
        if have != version:
            out.append(f"{name} {version} -> {have}")
    return out


def problems(lock: Path, pyproject: Path = PYPROJECT) -> list[str]:
    """Everything that makes ``lock`` disagree with ``pyproject.toml`` or with the installed venv."""
    text = Path(lock).read_text().splitlines()
    recorded = next((ln[len(DIGEST_PREFIX) :] for ln in text if ln.startswith(DIGEST_PREFIX)), None)
    found = []
    if recorded != digest(lock, pyproject):
        found.append(f"{Path(lock).name} was resolved from other inputs than today's pyproject.toml / .in: {FIX}")
    found += closure_problems(lock, pyproject)
    found += [f"installed {m} (venv differs from {Path(lock).name}): run `make setup`" for m in moved(lock)]
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("stamp", "check", "moved"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    command, lock = argv[0], Path(argv[1])
    if not lock.is_file():
        print(f"{lock}: no such lock file: {FIX}", file=sys.stderr)
        return 1
    if command == "stamp":
        stamp(lock)
        return 0
    if command == "moved":
        for line in moved(lock):
            print(line)
        return 0
    found = problems(lock)
    for line in found:
        print(line, file=sys.stderr)
    if not found:
        print(f"{lock}: matches pyproject.toml and the installed venv ({len(pins(lock))} packages)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
