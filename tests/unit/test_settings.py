"""Settings: one declaration each, read from the environment in one place, and documented from that declaration.

The documentation half follows datasette's ``tests/test_docs.py``, one step further: the configuration page
(docs/operators/configuration.md) is generated from the settings table by ``scripts/settings_doc.py``, so every
setting is on it with its default and meaning; a test fails while the page is stale, and every ``PAPERLINE_``
variable README.md and docs/ name is a setting, unless it is on ``NOT_SETTINGS`` with why.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.core.settings import SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BY_VARIABLE = {knob.variable: knob for knob in SETTINGS}

# Variables the documentation names that Paperline itself does not read.
NOT_SETTINGS = {
    "PAPERLINE_CHROMIUM": "the browser the UI tests drive, read by tests/ui/conftest.py",
    "ANTHROPIC_BASE_URL": "read by the Anthropic SDK itself, next to ANTHROPIC_API_KEY",
}


def settings_doc() -> ModuleType:
    """``scripts/settings_doc.py``, the script that writes the configuration page."""
    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "scripts" / "settings_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_page_is_the_one_the_settings_table_generates() -> None:
    script = settings_doc()
    page = script.PAGE.read_text(encoding="utf-8")
    assert page == script.render(), "docs/operators/configuration.md is stale: run python scripts/settings_doc.py"
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|", page, re.MULTILINE)
    assert [variable for variable, _default in rows] == [knob.variable for knob in SETTINGS]


def test_a_changed_setting_makes_the_configuration_page_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    script = settings_doc()
    before = script.render()
    changed = dataclasses.replace(SETTINGS[0], default=Path("elsewhere"), help="somewhere else")
    monkeypatch.setattr(script, "SETTINGS", (changed, *SETTINGS[1:]))
    after = script.render()
    assert after != before and "| `PAPERLINE_HOME` | ./elsewhere | a path | somewhere else |" in after


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_variable_the_docs_name_is_a_setting(page: Path) -> None:
    named = set(re.findall(r"\b(?:PAPERLINE|ANTHROPIC)_[A-Z0-9_]*[A-Z0-9]\b", page.read_text(encoding="utf-8")))
    unknown = sorted(named - BY_VARIABLE.keys() - NOT_SETTINGS.keys())
    assert not unknown, f"{page.relative_to(ROOT)} names variables no setting reads: {unknown}"


def test_no_module_but_the_settings_reads_a_paperline_variable() -> None:
    """Setting PAPERLINE_HOME for a child process is fine; reading a PAPERLINE_ variable is Settings' job."""
    read = re.compile(r"""(?:environ\.get|getenv)\(\s*["']PAPERLINE_|environ\[\s*["']PAPERLINE_\w+["']\s*\](?!\s*=)""")
    sources = [*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "dashboard").rglob("*.py"), ROOT / "app.py"]
    readers = [
        str(path.relative_to(ROOT))
        for path in sources
        if path != ROOT / "pipeline/core/settings.py" and read.search(path.read_text(encoding="utf-8"))
    ]
    assert not readers, f"read these through Settings instead: {readers}"


def test_every_setting_says_what_it_means() -> None:
    assert len(SETTINGS) == len(dataclasses.fields(Settings)) == len(BY_VARIABLE)
    assert all(knob.help.strip() for knob in SETTINGS), [knob.name for knob in SETTINGS if not knob.help.strip()]


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("PAPERLINE_MAX_PAGES", "abc", "PAPERLINE_MAX_PAGES must be a whole number, got 'abc'"),
        ("PAPERLINE_METRICS_PORT", "9108.5", "PAPERLINE_METRICS_PORT must be a whole number, got '9108.5'"),
        ("PAPERLINE_OCR_TIMEOUT_S", "soon", "PAPERLINE_OCR_TIMEOUT_S must be a number, got 'soon'"),
    ],
)
def test_a_value_that_does_not_read_names_its_variable(variable: str, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Settings.from_env({variable: raw})


def test_variables_are_read_by_type_and_blank_ones_keep_the_default(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PAPERLINE_HOME": str(tmp_path / "data"),
            "PAPERLINE_MAX_PAGES": " 12 ",
            "PAPERLINE_STALE_AFTER_S": "2.5",
            "PAPERLINE_ADMINS": " ann, ,bob ",
            "PAPERLINE_OCR_LANG": "deu",
            "PAPERLINE_WORKER_MAX_DELAY_S": "0.3",
            "PAPERLINE_PRICES": '{"m": [1, 2]}',
            "PAPERLINE_MODEL": "  ",
            "PAPERLINE_TESSERACT": "/opt/tesseract",
            "ANTHROPIC_API_KEY": "sk-test",
        }
    )
    assert settings.home == tmp_path / "data" and settings.store_path == tmp_path / "data" / "jobs.db"
    assert (settings.max_pages, settings.stale_after_s, settings.admins) == (12, 2.5, ("ann", "bob"))
    assert (settings.ocr_language, settings.worker_poll_max_delay_s, settings.prices_json) == (
        "deu",
        0.3,
        '{"m": [1, 2]}',
    )
    assert (settings.model, settings.tesseract, settings.anthropic_api_key_set) == (
        "claude-sonnet-4-6",
        "/opt/tesseract",
        True,
    )
    assert Settings.from_env({}).anthropic_api_key_set is False


def test_counts_that_must_be_positive_are_raised_to_one() -> None:
    raised = Settings.from_env(
        {
            "PAPERLINE_CHUNK_ATTEMPTS": "0",
            "PAPERLINE_LLM_CONCURRENCY": "-3",
            "PAPERLINE_MAX_FILES_PER_UPLOAD": "0",
            "PAPERLINE_EMBED_BATCH_PASSAGES": "0",
            "PAPERLINE_EMBED_THREADS": "0",
            "PAPERLINE_MAX_JOBS": "0",
        }
    )
    assert (raised.chunk_attempts, raised.llm_concurrency, raised.max_files_per_upload) == (1, 1, 1)
    assert (raised.embed_batch_passages, raised.embed_threads) == (1, 1)
    assert raised.max_jobs == 0, "0 means no limit here, and stays 0"


def test_settings_are_frozen_built_by_keyword_and_copied_with_replace(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, max_pages=7, admins=("ann",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_pages = 8  # type: ignore[misc]
    copy = dataclasses.replace(settings, public_url="https://a.example, https://b.example")
    assert (copy.max_pages, copy.admins, copy.home) == (7, ("ann",), tmp_path)
    assert copy.public_urls == ("https://a.example", "https://b.example") and settings.public_urls == ()
    assert Settings(home="relative").home == Path("relative").absolute()
