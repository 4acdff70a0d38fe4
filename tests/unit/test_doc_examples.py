"""The collector of the docs' examples (``tests/doc_examples.py``): what it finds, and that a broken example fails.

The examples themselves run in ``tests/integration/test_docs_examples.py``; here pages written into ``tmp_path``
show that a page with a broken example does not pass, and says where it broke.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.doc_examples import DocsError, ExampleFailed, Home, documentation_pages, find_examples, run_page
from tests.helpers import ROOT


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Home:
    work = tmp_path / "work"
    work.mkdir()
    return Home(cwd=work, env={"PATH": os.environ["PATH"]}, timeout_s=60)


def test_every_page_of_the_docs_parses_and_most_of_their_code_runs() -> None:
    pages = documentation_pages()
    assert any(path.parts[-3:] == ("docs", "operators", "configuration.md") for path in pages)
    examples = [example for path in pages for example in find_examples(path)]
    runs = [example for example in examples if example.runs]
    kept_back = [example for example in examples if example.not_run]
    assert len(runs) >= 20, "the docs' examples run"
    assert all(example.language in ("bash", "python") for example in kept_back), "a reason marks only code"
    assert len(kept_back) < len(runs) / 2, [example.where for example in kept_back]


def test_a_broken_python_example_fails_naming_its_page_line_and_error(tmp_path: Path, home: Home) -> None:
    broken = page(
        tmp_path,
        "# A page\n\n```bash\necho fine > fine.txt\n```\n\nText.\n\n"
        "```python\nfrom pipeline import analytics\n\nprint(analytics)\n```\n",
    )
    with pytest.raises(ExampleFailed) as failed:
        run_page(broken, home)
    message = str(failed.value)
    assert f"{broken}:9 (python) exited 1" in message
    assert "ImportError" in message and "from pipeline import analytics" in message
    assert (home.cwd / "fine.txt").read_text() == "fine\n", "the examples before it ran, in order"


def test_a_bash_example_fails_on_any_failing_command_also_inside_a_pipe(tmp_path: Path, home: Home) -> None:
    for code in ("false\necho after", "false | cat", "echo $UNSET_VARIABLE"):
        with pytest.raises(ExampleFailed, match=r"page\.md:1 \(bash\) exited [1-9]"):
            run_page(page(tmp_path, f"```bash\n{code}\n```\n"), home)


@pytest.fixture
def not_found_server() -> Iterator[str]:
    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"No job 'nope'")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_curl_in_an_example_fails_on_an_http_error(tmp_path: Path, home: Home, not_found_server: str) -> None:
    home.substitutions = {"localhost:5006": not_found_server}
    with pytest.raises(ExampleFailed) as failed:
        run_page(page(tmp_path, "```bash\ncurl -s localhost:5006/api/v1/jobs/nope\n```\n"), home)
    assert "No job 'nope'" in str(failed.value)


def test_a_block_marked_not_run_does_not_run_and_the_rest_see_placeholders_and_variables(
    tmp_path: Path, home: Home
) -> None:
    home.substitutions = {"localhost:5006": "127.0.0.1:9"}
    home.variables = lambda: {"JOB": "abc123"}
    text = (
        "<!-- not run: would stop the page -->\n```bash\nexit 3\n```\n\n"
        "```bash\necho localhost:5006 $JOB > seen.txt\n```\n\n```text\nexit 4\n```\n"
    )
    ran = run_page(page(tmp_path, text), home)
    assert [example.line for example in ran] == [6]
    assert (home.cwd / "seen.txt").read_text() == "127.0.0.1:9 abc123\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("```\nprint('which language?')\n```\n", "name the block's language"),
        ("<!-- not run: a reason -->\n\nSome text.\n\n```bash\nexit 1\n```\n", "'not run' marks no code block"),
        ("```python\nprint('never closed')\n", "never closed"),
    ],
)
def test_a_page_whose_blocks_cannot_be_told_apart_is_refused(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(DocsError, match=complaint):
        find_examples(page(tmp_path, text))


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_every_link_between_pages_reaches_a_file_and_its_heading() -> None:
    broken = []
    for path in documentation_pages():
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, broken
