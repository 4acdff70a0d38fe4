"""Reading the lock files (requirements/*.txt, written by `make lock`): the versions they pin for this interpreter."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


def locked_versions(path: Path) -> dict[str, list[Version]]:
    """Each package's pinned versions that apply to this interpreter (a universal lock may pin one per Python)."""
    pins: dict[str, list[Version]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in " #-":
            continue  # hashes, comments and options
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line} is not pinned"
        pins.setdefault(canonicalize_name(requirement.name), []).append(Version(specifier.version))
    return pins
