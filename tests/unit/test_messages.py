"""Sentences a person reads are worded once, in ``pipeline.core.messages``, whoever shows them."""

from __future__ import annotations

from dashboard.feed import Health
from pipeline.core import messages


def test_the_page_warns_of_queued_jobs_without_a_worker_in_the_shared_words() -> None:
    assert messages.queued_without_worker(1) == (
        "1 job queued and no worker is running. Start one with 'paperline worker' (or 'make run')."
    )
    for queued in (1, 3):
        assert Health(queued=queued).warning == messages.queued_without_worker(queued)


def test_waiting_without_a_worker_says_how_many_jobs_cannot_finish() -> None:
    assert messages.no_worker_to_finish(2) == (
        "No Paperline worker is running, so 2 jobs cannot finish. Start one with 'paperline worker' (or 'make run'), "
        "then wait again."
    )


def test_deleted_files_are_announced_alike_on_the_page_and_in_the_cli() -> None:
    assert messages.deleted_files_of("a.pdf") == "Deleted the files of a.pdf; its history is kept."
    assert messages.deleted_files_of("a.pdf", "j1") == "Deleted the files of a.pdf (j1); its history is kept."
