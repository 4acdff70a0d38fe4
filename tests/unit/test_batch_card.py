"""The live jobs' batch card: several files dropped at once become one batch, shown as one card rolling its
documents up, read from the shared feed; its buttons cancel all, retry the failed and download every result."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from dashboard.feed import JobFeed
from dashboard.live import LiveJobs
from dashboard.state import SessionState
from dashboard.upload import UploadPanel
from pipeline import JobStatus, Paperline
from pipeline.core.models import Batch
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued


def test_a_multi_file_drop_becomes_one_batch_card_with_its_actions(app: Paperline, tmp_path: Path) -> None:
    feed = JobFeed(app)
    state = SessionState(feed=feed)
    state.priority = 4
    upload = UploadPanel(state=state)
    files = {f"d{i}.pdf": make_text_pdf(tmp_path / f"d{i}.pdf", i + 1).read_bytes() for i in range(3)}
    outcomes = upload._submit(files)
    jobs = [job for _name, job in outcomes]
    assert len({job.batch_id for job in jobs}) == 1 and jobs[0].batch_id  # type: ignore[union-attr]
    assert {job.priority for job in jobs} == {4}  # type: ignore[union-attr]
    alone = upload._submit({"one.pdf": files["d0.pdf"]})[0][1]
    assert alone.batch_id is None  # type: ignore[union-attr]

    feed.refresh()
    live = LiveJobs(state=state)
    [card] = live._batch_cards.values()
    assert set(live._cards) == {alone.id}, "the batch's jobs are on its card, not cards of their own"  # type: ignore[union-attr]
    assert "0 of 3 ready" in card._line.object and len(card._documents.objects) == 3
    run_queued(app)
    feed.refresh()
    live.refresh()
    assert "3 of 3 ready" in card._line.object and card._bar.value == 100
    archive = zipfile.ZipFile(io.BytesIO(card._zip().read()))
    assert len(json.loads(archive.read("manifest.json"))["jobs"]) == 3

    # page counts no earlier document had: a document made in the same second as an earlier one of as many pages
    # is the same bytes, answered from the cache as completed, with nothing to cancel
    more = upload._submit({f"e{i}.pdf": make_text_pdf(tmp_path / f"e{i}.pdf", 5 + i).read_bytes() for i in range(2)})
    feed.refresh()
    live.refresh()
    second = live._batch_cards[more[0][1].batch_id]  # type: ignore[union-attr,index]
    before = list(second.jobs)  # the feed's snapshots from before the cancel
    second.param.trigger("cancel_all")
    assert {app.get(job.id).status for _n, job in more} == {JobStatus.CANCELED}  # type: ignore[union-attr]
    assert "2 canceled" in second._line.object and not second._cancel.visible, "final on the card at once"
    second.show_jobs(before)  # a feed tick read before the cancel must not bring them back as running
    assert "2 canceled" in second._line.object and not second._cancel.visible
    feed.refresh()
    live.refresh()
    assert "0 of 2 ready, 2 canceled" in second._line.object


def test_a_batch_card_counts_every_document_even_before_all_are_jobs(app: Paperline, tmp_path: Path) -> None:
    """A batch's jobs are created one by one, each through intake: the card says "of 3" from its first job on, and
    a first job that ended does not fill the bar."""
    feed = JobFeed(app)
    state = SessionState(feed=feed)
    batch = app.store.create_batch(Batch("b1", "local", "3 documents", 1.0, 3))
    first = app.submit(make_text_pdf(tmp_path / "first.pdf", 1), batch_id=batch.id)
    run_queued(app)
    feed.refresh()
    live = LiveJobs(state=state)
    [card] = live._batch_cards.values()
    assert "1 of 3 ready" in card._line.object and card._bar.value == 33
    assert "3 documents — 1 of 3 ready" in card._card.title
    app.submit(make_text_pdf(tmp_path / "second.pdf", 2), batch_id=batch.id)
    feed.refresh()
    live.refresh()
    assert "1 of 3 ready" in card._line.object and card._bar.value == 33 and first.batch_id == batch.id


def test_cancel_all_is_offered_while_a_drop_s_documents_are_still_to_come_and_refuses_them(
    app: Paperline, tmp_path: Path
) -> None:
    feed = JobFeed(app)
    state = SessionState(feed=feed)
    batch = app.store.create_batch(Batch("b2", "local", "2 documents", 1.0, 2))
    app.submit(make_text_pdf(tmp_path / "first.pdf", 1), batch_id=batch.id)
    run_queued(app)
    feed.refresh()
    live = LiveJobs(state=state)
    [card] = live._batch_cards.values()
    assert card._cancel.visible, "the first job ended, but the second document is still on its way"
    card.param.trigger("cancel_all")
    later = app.submit(make_text_pdf(tmp_path / "second.pdf", 2), batch_id=batch.id)
    assert later.status is JobStatus.CANCELED and app.queue.pending_count() == 0
    feed.refresh()
    live.refresh()
    assert "1 of 2 ready, 1 canceled" in card._line.object and not card._cancel.visible


def test_a_finished_batch_folds_to_a_line_and_a_failed_document_says_why(
    app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import live as live_module

    feed = JobFeed(app)
    state = SessionState(feed=feed)
    upload = UploadPanel(state=state)
    files = {f"f{i}.pdf": make_text_pdf(tmp_path / f"f{i}.pdf", 20 + i).read_bytes() for i in range(2)}
    files["broken.pdf"] = b"%PDF-1.4 not really"
    shown: list[tuple[str, str]] = []
    outcomes = upload._submit(files, on_each=lambda name, outcome: shown.append((name, type(outcome).__name__)))
    assert [name for name, _ in shown] == list(files), "each file was told of as its job was made, in order"
    run_queued(app)
    feed.refresh()
    live = LiveJobs(state=state)
    [card] = live._batch_cards.values()
    labels = {button.name for button in card._documents.objects}
    broken = next(job for name, job in outcomes if name == "broken.pdf")
    assert f"broken.pdf — failed: {broken.error[:40]}" in " ".join(labels), labels  # type: ignore[union-attr]
    assert "f0.pdf — completed" in labels and not any("(0%)" in label for label in labels)
    assert card.view(False, 0) in live._batch_column.objects, "a batch that just ended keeps its card"
    monkeypatch.setattr(live_module, "FOLD_AFTER_S", 0)
    live.refresh()
    assert live._batch_column.objects == [] and live._finished_title.visible
    folded = live._finished.objects[0]
    assert "3 documents</b> · 2 of 3 ready, 1 failed · ended just now" in folded.objects[0].object
    assert card._download in folded.objects, "the folded line keeps its download"
