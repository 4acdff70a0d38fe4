"""The code examples of README.md and docs/, found and run as a reader would run them.

A fenced block in ``python`` (or ``py``) or ``bash`` (``sh``, ``shell``) is an example and runs; a block that must
not run (it installs packages, starts a server that runs until Ctrl-C, needs a second host) says so on the line
just above its fence, with the reason: ``<!-- not run: needs root and a PostgreSQL host -->``. Every fence names
its language (``text`` for output, trees and diagrams), so no example hides in an unnamed block.

Each example runs in a subprocess in the home's working folder, in document order, as a reader would paste it: a
``bash`` block with ``set -euo pipefail`` (a failing command fails the example, also inside a pipe), a ``python``
block as a script. ``curl`` is called with ``--fail-with-body``, so an example answered 4xx or 5xx fails too. An
example fails on a non-zero exit, and the failure names the file, the line of its fence, the code and its output.
Written after pytest-examples (pydantic/pytest-examples), which runs only Python, in the test's own process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import ROOT

LANGUAGES = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->\s*$")


class DocsError(ValueError):
    """A page whose blocks cannot be told apart: an unnamed fence, an unclosed one, a marker that marks nothing."""


class ExampleFailed(AssertionError):
    """An example that exited non-zero (or ran over its time)."""


@dataclass(frozen=True)
class Example:
    """One fenced block of a page."""

    path: Path
    #: the line of its opening fence, 1-based
    line: int
    #: "python" or "bash" for an example; another language for output, trees and diagrams
    language: str
    code: str
    #: why it does not run ("" when it runs)
    not_run: str = ""

    @property
    def runs(self) -> bool:
        return self.language in LANGUAGES.values() and not self.not_run

    @property
    def where(self) -> str:
        try:
            return f"{self.path.relative_to(ROOT)}:{self.line}"
        except ValueError:
            return f"{self.path}:{self.line}"


def documentation_pages(root: Path = ROOT) -> list[Path]:
    """README.md and every page under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def find_examples(path: Path) -> list[Example]:
    """Every fenced block of ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    pending_reason, pending_line = "", 0
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = NOT_RUN.match(line)
        if marker:
            pending_reason, pending_line = marker.group("reason"), index + 1
            index += 1
            continue
        opening = FENCE.match(line)
        if not opening:
            if line.strip() and pending_reason:
                raise DocsError(f"{path}:{pending_line}: 'not run' marks no code block (it must stand just above one)")
            index += 1
            continue
        info = opening.group("info").strip()
        if not info:
            raise DocsError(f"{path}:{index + 1}: name the block's language (text for output, trees and diagrams)")
        language = LANGUAGES.get(info.split()[0].lower(), info.split()[0].lower())
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not (
            lines[end].lstrip().startswith(fence[0] * len(fence)) and not lines[end].strip().strip(fence[0])
        ):
            body.append(lines[end][indent:] if lines[end][:indent].isspace() else lines[end])
            end += 1
        if end == len(lines):
            raise DocsError(f"{path}:{index + 1}: the code block is never closed")
        examples.append(Example(path, index + 1, language, "\n".join(body) + "\n", pending_reason))
        pending_reason = ""
        index = end + 1
    if pending_reason:
        raise DocsError(f"{path}:{pending_line}: 'not run' marks no code block (it must stand just above one)")
    return examples


@dataclass
class Home:
    """Where examples run: a working folder (the reader's files), the environment of their shell (a PAPERLINE_HOME
    among it), the placeholders a page writes for this machine's addresses, and variables read afresh before each
    example (the newest job's id as ``$JOB``: the id the last ``submit`` printed)."""

    cwd: Path
    env: Mapping[str, str]
    substitutions: Mapping[str, str] = field(default_factory=dict)
    variables: Callable[[], Mapping[str, str]] = dict
    timeout_s: float = 300.0

    def __post_init__(self) -> None:
        self.bin = install_commands(self.cwd)

    def shell_env(self) -> dict[str, str]:
        env = dict(self.env)
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", os.defpath)])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
        env.update(self.variables())
        return env


def install_commands(cwd: Path) -> Path:
    """The commands a page names, in ``cwd``: ``.venv/bin/paperline`` and ``.venv/bin/python`` (what ``make run``
    installs) run this checkout with this interpreter; ``paperline`` and a ``curl`` that fails on an HTTP error are
    on PATH."""
    venv_bin, path_bin = cwd / ".venv" / "bin", cwd / ".examples-bin"
    venv_bin.mkdir(parents=True, exist_ok=True)
    path_bin.mkdir(exist_ok=True)
    curl = shutil.which("curl") or "curl"
    scripts = {
        venv_bin / "paperline": f'exec "{sys.executable}" -m pipeline "$@"',
        venv_bin / "python": f'exec "{sys.executable}" "$@"',
        path_bin / "paperline": f'exec "{sys.executable}" -m pipeline "$@"',
        path_bin / "curl": f'exec "{curl}" --fail-with-body "$@"',
    }
    for script, command in scripts.items():
        script.write_text(f"#!/bin/sh\n{command}\n", encoding="utf-8")
        script.chmod(0o755)
    return path_bin


def substitute(code: str, substitutions: Mapping[str, str]) -> str:
    for placeholder, value in substitutions.items():
        code = code.replace(placeholder, value)
    return code


def run_example(example: Example, home: Home) -> subprocess.CompletedProcess[str]:
    """Run one example in ``home``; raises ``ExampleFailed`` when it exits non-zero or runs over its time."""
    code = substitute(example.code, home.substitutions)
    if example.language == "python":
        script = home.cwd / f".example-{example.path.stem}-{example.line}.py"
        script.write_text(code, encoding="utf-8")
        argv = [sys.executable, str(script)]
    elif example.language == "bash":
        argv = ["bash", "-c", "set -euo pipefail\n" + code]
    else:
        raise ValueError(f"{example.where}: a {example.language} block is not an example")
    try:
        done = subprocess.run(
            argv,
            cwd=home.cwd,
            env=home.shell_env(),
            capture_output=True,
            text=True,
            timeout=home.timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExampleFailed(f"{example.where} ({example.language}) ran over {home.timeout_s:.0f} s:\n{code}") from exc
    if done.returncode != 0:
        raise ExampleFailed(
            f"{example.where} ({example.language}) exited {done.returncode}\n--- code\n{code}"
            f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
    return done


def run_page(path: Path, home: Home) -> list[Example]:
    """Every example of ``path`` that runs, in order; returns them."""
    ran = [example for example in find_examples(path) if example.runs]
    for example in ran:
        run_example(example, home)
    return ran
