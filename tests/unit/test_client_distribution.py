"""``pipeline.client`` stands alone: it imports only the standard library, httpx and httpx-sse, tqdm and pandas for
its extras (a progress bar, tables as DataFrames), itself and ``pipeline.tables`` (the reader of the tables result,
standard library and pandas only), and its distribution (clients/python) ships that very code with the version and
dependency ranges paperline declares. The build and a run against a server are in
tests/integration/test_client_distribution.py."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = ROOT / "clients" / "python"
STANDARD = set(sys.stdlib_module_names)
# Each shipped package: what its modules may import besides the standard library and the shipped packages.
SHIPPED = {
    "pipeline.client": {"httpx", "httpx_sse", "tqdm", "pandas"},  # tqdm: the progress extra; pandas: the tables extra
    "pipeline.tables": {"pandas", "openpyxl"},  # openpyxl: the xlsx result, made only by the server
}


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
    strays = set()
    for package, libraries in SHIPPED.items():
        for path in sorted((ROOT / package.replace(".", "/")).glob("*.py")):
            for name in imported_modules(path):
                top = name.split(".")[0]
                shipped = any(name == p or name.startswith(p + ".") for p in SHIPPED)
                if not (shipped or top in STANDARD or top in libraries):
                    strays.add(f"{package}.{path.stem}: {name}")
    assert not strays, f"pipeline.client must stay installable alone (clients/python): {sorted(strays)}"


def test_the_distribution_ships_this_code_at_paperlines_version_and_ranges() -> None:
    for package in SHIPPED:
        folder = package.replace(".", "/")
        assert (DISTRIBUTION / folder).resolve() == ROOT / folder, f"{package}: a link to the one copy, not a copy"
    client = tomllib.loads((DISTRIBUTION / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    paperline = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert client["version"] == paperline["version"]
    ranges = {Requirement(r).name: str(Requirement(r).specifier) for r in paperline["dependencies"]}
    extras = [r for extra in client["optional-dependencies"].values() for r in extra]
    for requirement in map(Requirement, client["dependencies"] + extras):
        assert str(requirement.specifier) == ranges[requirement.name], f"{requirement} differs from paperline's"
    assert {Requirement(r).name for r in client["dependencies"]} == {"httpx", "httpx-sse"}
