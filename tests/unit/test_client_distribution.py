"""``pipeline.client`` stands alone: it imports only the standard library, httpx and httpx-sse (tqdm for a progress
bar, from the ``progress`` extra) and itself, and its distribution (clients/python) ships that very code with the
version and dependency ranges paperline declares. The build and a run against a server are in
tests/integration/test_client_distribution.py."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "pipeline" / "client"
DISTRIBUTION = ROOT / "clients" / "python"
# What the distribution declares (the progress extra's tqdm only where a bar is asked for, the tables extra's pandas
# only for DataFrames), and the rooms of Paperline it ships beside the client.
THIRD_PARTY = {"httpx", "httpx_sse", "tqdm", "pandas"}
SHIPPED = ("pipeline.client", "pipeline.tables")
TABLES = ROOT / "pipeline" / "tables"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 or node.module, f"{path.name}: a relative import"
            names.add(node.module or "")
    return names


def test_the_client_imports_nothing_else_of_paperline_nor_other_libraries() -> None:
    strays = {
        f"{path.name}: {name}"
        for path in sorted([*CLIENT.glob("*.py"), *TABLES.glob("*.py")])
        for name in imported_modules(path)
        if not (
            name in SHIPPED
            or name.startswith(tuple(f"{room}." for room in SHIPPED))
            or name.split(".")[0] in THIRD_PARTY | {"openpyxl"} | set(sys.stdlib_module_names)
        )
    }
    assert not strays, f"pipeline.client must stay installable alone (clients/python): {sorted(strays)}"


def test_the_distribution_ships_this_code_at_paperlines_version_and_ranges() -> None:
    assert (DISTRIBUTION / "pipeline" / "client").resolve() == CLIENT, "a link to the one copy, not a copy"
    assert (DISTRIBUTION / "pipeline" / "tables").resolve() == TABLES
    client = tomllib.loads((DISTRIBUTION / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    paperline = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert client["version"] == paperline["version"]
    ranges = {Requirement(r).name: str(Requirement(r).specifier) for r in paperline["dependencies"]}
    extras = client["optional-dependencies"]
    for requirement in map(Requirement, client["dependencies"] + extras["progress"] + extras["tables"]):
        assert str(requirement.specifier) == ranges[requirement.name], f"{requirement} differs from paperline's"
    assert {Requirement(r).name for r in client["dependencies"]} == {"httpx", "httpx-sse"}
