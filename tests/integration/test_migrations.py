"""A job store made by the last release without migrations opens with this code, on SQLite and on PostgreSQL: its
jobs, chunks, events, passages and tokens are kept, the newest schema version is recorded, and new jobs follow
the old ones. The old store is made by that release's own code, taken from git and run in a subprocess."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.models import AskReservation, Batch
from pipeline.core.settings import Settings
from pipeline.store import JobStore, migrations, open_store
from tests.docgen import make_text_pdf
from tests.helpers import ROOT
from tests.store_contract import new_job

pytestmark = pytest.mark.integration

LAST_RELEASE_WITHOUT_MIGRATIONS = "1f3207d"

# Run by the old release: submit a document through its service, take the job through extraction to embedding
# through its store, add a token, and print what that code reads back (the expectation for the new code).
MAKE_OLD_STORE = """
import dataclasses, json, sys
from pathlib import Path
from pipeline.core.models import ApiToken, ChunkStatus, PassageRecord
from pipeline.core.settings import Settings
from pipeline.jobs.chunking import plan_chunks
from pipeline.service.paperline import Paperline

def plain(value):
    return json.loads(json.dumps(dataclasses.asdict(value), default=str))

app = Paperline(Settings.from_env())
store = app.store
job = app.submit(Path(sys.argv[1]))
store.start(job.id)
store.plan_chunks(job.id, plan_chunks(2, 1))
for index in range(2):
    store.claim_chunk(job.id, index, "old:1")
    store.finish_chunk(job.id, index, ChunkStatus.DONE)
passages = [PassageRecord(job.id, i, f"passage {i}", 10 * i, 10 * i + 9, (i + 1,), ("Intro",), 3) for i in range(2)]
store.start_embedding(job.id, passages)
store.save_vectors(job.id, [(0, bytes(range(8)))])
store.add_token(ApiToken("tok1", "ann", "laptop", 1.0, expires_at=9e9), "digest1")
print(json.dumps({
    "job": plain(store.get(job.id)),
    "chunks": [plain(chunk) for chunk in store.list_chunks(job.id)],
    "events": [plain(event) for event in store.list_events(job.id)],
    "passages": [plain(passage) for passage in store.list_passages(job.id, vectors=True)],
    "token": plain(store.token_for("digest1")),
    "revision": store.changes_since(0).revision,
}))
app.close()
"""


def plain(value: Any) -> Any:
    """A snapshot as the old code printed it: a dict of JSON values."""
    return json.loads(json.dumps(dataclasses.asdict(value), default=str))


def kept(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The new snapshot's values of the fields the old one had (a later release may read more)."""
    return {name: new.get(name) for name in old}


@pytest.fixture(scope="module")
def last_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That release's code, from this repository's history."""
    root = tmp_path_factory.mktemp("last-release")
    known = ["git", "-C", str(ROOT), "cat-file", "-e", f"{LAST_RELEASE_WITHOUT_MIGRATIONS}^{{commit}}"]
    if subprocess.run(known, capture_output=True, check=False).returncode != 0:  # a shallow clone has no history
        pytest.skip(f"this clone lacks commit {LAST_RELEASE_WITHOUT_MIGRATIONS}: clone the whole history to run it")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", LAST_RELEASE_WITHOUT_MIGRATIONS, "pipeline", "huey_config.py"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    assert not (root / "pipeline" / "store" / "migrations").exists(), "that release had no migrations"
    return root


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    return Settings(home=tmp_path / "home", database_url=url)


def made_by_last_release(code: Path, settings: Settings, document: Path) -> dict[str, Any]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PAPERLINE_")}
    env |= {"PAPERLINE_HOME": str(settings.home), "PAPERLINE_DATABASE_URL": settings.database_url}
    done = subprocess.run(
        [sys.executable, "-c", MAKE_OLD_STORE, str(document)], cwd=code, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def version_of(store: JobStore) -> list[str]:
    return [row["version_num"] for row in store.connection.execute("SELECT version_num FROM alembic_version")]  # type: ignore[attr-defined]


@pytest.fixture
def old_store(last_release: Path, settings: Settings, tmp_path: Path) -> Iterator[tuple[dict[str, Any], JobStore]]:
    """What the last release wrote and read back, and the same database opened by this code."""
    before = made_by_last_release(last_release, settings, make_text_pdf(tmp_path / "doc.pdf", 2))
    store = open_store(settings)
    yield before, store
    store.close()


def test_a_store_made_before_migrations_keeps_its_history_and_is_versioned(
    old_store: tuple[dict[str, Any], JobStore],
) -> None:
    before, store = old_store
    job_id = before["job"]["id"]
    job = store.get(job_id)
    assert job is not None and kept(before["job"], plain(job)) == before["job"]
    assert [kept(old, plain(new)) for old, new in zip(before["chunks"], store.list_chunks(job_id), strict=True)] == (
        before["chunks"]
    )
    assert [plain(event) for event in store.list_events(job_id)] == before["events"]
    assert [plain(passage) for passage in store.list_passages(job_id, vectors=True)] == before["passages"]
    token = store.token_for("digest1")
    assert token is not None and plain(token) == before["token"]
    assert store.changes_since(0).revision == before["revision"]
    assert version_of(store) == [migrations.head()], "the baseline was applied and recorded"


def test_new_jobs_follow_the_old_ones_in_a_migrated_store(old_store: tuple[dict[str, Any], JobStore]) -> None:
    before, store = old_store
    store.create(new_job("after-upgrade"))
    store.initialize_schema()  # the next process to start finds nothing left to do
    assert version_of(store) == [migrations.head()]
    new = store.get("after-upgrade")
    assert new is not None and new.step_recoveries == 0 and new.filename == "a.pdf"
    assert [job.id for job in store.list_recent()] == ["after-upgrade", before["job"]["id"]]
    last_old_event = before["events"][-1]["id"]
    assert [event.id > last_old_event for event in store.list_events("after-upgrade")] == [True]
    assert store.changes_since(before["revision"]).jobs[0].id == "after-upgrade", "revisions go on from the old ones"
    # 0006: a batch remembers its cancel, answers under way hold a reservation, a user's backlog is counted
    store.create_batch(Batch("b1", "ann", "1 document", 1.0, 1))
    store.cancel_batch("b1", 2.0)
    assert store.get_batch("b1") == Batch("b1", "ann", "1 document", 1.0, 1, canceled_at=2.0)
    usage: list[tuple[float, float, int]] = []
    for rid in ("r1", "r2"):
        reservation = AskReservation(rid, "ann", "2026-01-01", 0.5, 1.0, 9e9)
        store.reserve_ask(reservation, check=lambda *seen: usage.append(seen))
    store.settle_ask(reservation, 10, 5, 0.25)
    assert usage == [(0.0, 0.0, 0), (0.0, 0.5, 1)] and store.list_ask_usage("ann")[0].cost_usd == 0.25
