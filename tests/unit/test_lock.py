"""The lock files (requirements/) hold every dependency pyproject.toml declares, at a version it allows.

`make install-test` installs from the lock alone (then Paperline without dependencies), so a dependency added to
pyproject.toml but not locked would be missing from CI's fresh install; this test says so first, and names the
command that fixes it (`make lock`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.locks import locked_versions

ROOT = Path(__file__).resolve().parents[2]
# Which extras each lock file holds (the Makefile's `lock` target compiles them so).
LOCKS = {
    "requirements/run.txt": ("retrieval",),
    "requirements/test.txt": ("test", "postgres", "s3", "retrieval", "ocr"),
}


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [*project["dependencies"]]
    for extra in extras:
        names.extend(project["optional-dependencies"][extra])
    return [Requirement(name) for name in names]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_every_declared_dependency_within_its_range(lock: str) -> None:
    pins = locked_versions(ROOT / lock)
    stale = []
    for requirement in declared(LOCKS[lock]):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        versions = pins.get(canonicalize_name(requirement.name), [])
        if not any(requirement.specifier.contains(version, prereleases=True) for version in versions):
            stale.append(f"{requirement} (locked: {', '.join(map(str, versions)) or 'none'})")
    assert not stale, f"{lock} is out of date with pyproject.toml; run `make lock`: " + "; ".join(stale)


def test_run_lock_agrees_with_test_lock() -> None:
    """What `make run` installs is what the tests ran on: the run lock is resolved within the test lock."""
    run, test = locked_versions(ROOT / "requirements/run.txt"), locked_versions(ROOT / "requirements/test.txt")
    differing = {name: (versions, test.get(name)) for name, versions in run.items() if versions != test.get(name)}
    assert not differing, f"run.txt and test.txt pin different versions; run `make lock`: {differing}"
