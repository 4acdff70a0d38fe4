"""The contract every JobStore backend passes: a backend's test module subclasses ``StoreContract`` and provides a
``store`` fixture (an empty store), as huey tests each storage. ``test_the_contract_covers_the_whole_interface``
keeps it exercising every method of the interface."""

from __future__ import annotations

import inspect
import re
import threading
import time

import pytest

from pipeline.core.batches import BatchView
from pipeline.core.errors import AskBusy, BatchCanceled, WebhookRefused
from pipeline.core.models import (
    AskReservation,
    Batch,
    ChunkStatus,
    DeliveryStatus,
    JobStatus,
    PassageRecord,
    Stage,
    SubscriptionState,
    WebhookSubscription,
)
from pipeline.jobs.chunking import plan_chunks
from pipeline.store import JobStore, NewJob
from pipeline.store.interface import AttemptOutcome


class OverLimit(Exception):
    pass


def new_job(job_id: str = "job1", **overrides) -> NewJob:  # type: ignore[no-untyped-def]
    fields = dict(
        id=job_id,
        filename="a.pdf",
        kind="pdf",
        profile="text",
        engine="local",
        sha256="abc",
        size_bytes=10,
        user="ann",
        pages=45,
    )
    fields.update(overrides)
    return NewJob(**fields)  # type: ignore[arg-type]


class StoreContract:
    """Behaviour shared by every backend; subclasses provide the ``store`` fixture."""

    def running_job(self, store: JobStore, job_id: str = "job1", pages: int = 45, chunk_pages: int = 15) -> None:
        store.create(new_job(job_id, pages=pages))
        assert store.start(job_id)
        store.plan_chunks(job_id, plan_chunks(pages, chunk_pages, 1))

    def test_create_and_get_return_a_frozen_snapshot(self, store: JobStore) -> None:
        job = store.create(new_job())
        assert job.status is JobStatus.QUEUED and job.stage is Stage.QUEUED
        assert store.get("job1") == job
        with pytest.raises(AttributeError):
            job.status = JobStatus.RUNNING  # type: ignore[misc]
        assert store.get("nope") is None

    def test_a_refused_document_is_recorded_as_failed(self, store: JobStore) -> None:
        job = store.create(new_job(status=JobStatus.FAILED, message="empty", error="empty"))
        assert job.status is JobStatus.FAILED and job.finished_at is not None
        assert [e.kind for e in store.list_events("job1")] == ["created", "status"]

    def test_list_recent_is_newest_first_and_filters(self, store: JobStore) -> None:
        for i in range(5):
            store.create(new_job(f"j{i}", user="ann" if i % 2 else "bob"))
        store.finish("j3", JobStatus.CANCELED, "stop")
        assert [j.id for j in store.list_recent()] == ["j4", "j3", "j2", "j1", "j0"]
        assert [j.id for j in store.list_recent(user="ann")] == ["j3", "j1"]
        assert [j.id for j in store.list_recent(status=JobStatus.CANCELED)] == ["j3"]
        assert len(store.list_recent(limit=2)) == 2

    def test_list_recent_pages_by_the_last_id_seen_and_finds_by_name(self, store: JobStore) -> None:
        names = ["Q3 report.pdf", "q3_REPORT-final.pdf", "scan.png", "100%_done.pdf", "q3 notes.pdf"]
        for i, name in enumerate(names):
            store.create(new_job(f"j{i}", filename=name))
        first = store.list_recent(limit=2)
        assert [j.id for j in first] == ["j4", "j3"]
        second = store.list_recent(limit=2, after=first[-1].id)
        store.create(new_job("j5"))  # a job arriving meanwhile shifts nothing
        third = store.list_recent(limit=2, after=second[-1].id)
        assert [j.id for j in second + third] == ["j2", "j1", "j0"]
        assert [j.id for j in store.list_recent(name="q3 report")] == ["j0"], "any case, a substring"
        assert [j.id for j in store.list_recent(name="REPORT")] == ["j1", "j0"]
        assert [j.id for j in store.list_recent(name="0%_")] == ["j3"], "% and _ are letters here, not wildcards"
        assert [j.id for j in store.list_recent(name="_report")] == ["j1"]

    def test_start_only_takes_a_queued_job(self, store: JobStore) -> None:
        store.create(new_job())
        assert store.start("job1")
        assert not store.start("job1")
        job = store.get("job1")
        assert job and job.status is JobStatus.RUNNING and job.stage is Stage.PREPARING and job.started_at

    def test_a_chunk_is_claimed_once(self, store: JobStore) -> None:
        self.running_job(store)
        first = store.claim_chunk("job1", 0, "w1")
        assert first and first.status is ChunkStatus.RUNNING and first.attempts == 1 and first.worker == "w1"
        assert store.claim_chunk("job1", 0, "w2") is None

    def test_progress_is_weighted_by_pages(self, store: JobStore) -> None:
        self.running_job(store, pages=100, chunk_pages=20)
        store.claim_chunk("job1", 0, "w")
        store.update_chunk_progress("job1", 0, 10)
        job = store.get("job1")
        assert job and job.pages_done == 10 and job.progress == pytest.approx(5 + 90 * 0.10)
        store.finish_chunk("job1", 0, ChunkStatus.DONE)
        job = store.get("job1")
        assert job and job.pages_done == 20 and job.chunks_done == 1
        assert "1 of 5 chunks done" in job.message

    def test_exactly_one_finisher_is_last(self, store: JobStore) -> None:
        self.running_job(store, pages=150, chunk_pages=5)
        for i in range(30):
            store.claim_chunk("job1", i, "w")
        lasts: list[bool] = []
        barrier = threading.Barrier(6)

        def finish(indexes: range) -> None:
            barrier.wait()
            for i in indexes:
                lasts.append(store.finish_chunk("job1", i, ChunkStatus.DONE))

        threads = [threading.Thread(target=finish, args=(range(k, 30, 6),)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert lasts.count(True) == 1 and len(lasts) == 30
        job = store.get("job1")
        assert job and job.stage is Stage.MERGING and job.chunks_done == 30 and job.pages_done == 150

    def test_failed_chunks_still_end_extraction(self, store: JobStore) -> None:
        self.running_job(store, pages=30, chunk_pages=15)
        for i in range(2):
            store.claim_chunk("job1", i, "w")
        assert not store.finish_chunk("job1", 0, ChunkStatus.FAILED, error="boom")
        assert store.finish_chunk("job1", 1, ChunkStatus.DONE)
        job = store.get("job1")
        assert job and job.chunks_failed == 1 and job.chunks_done == 1
        assert store.list_chunks("job1")[0].error == "boom"

    # -- retrieval passages ---------------------------------------------------------------------------------------
    def merging_retrieval_job(self, store: JobStore, job_id: str = "job1", user: str = "ann") -> None:
        store.create(new_job(job_id, profile="retrieval", user=user, pages=15))
        assert store.start(job_id)
        store.plan_chunks(job_id, plan_chunks(15, 15, 0))
        store.claim_chunk(job_id, 0, "w")
        assert store.finish_chunk(job_id, 0, ChunkStatus.DONE)

    @staticmethod
    def passages(job_id: str, count: int) -> list[PassageRecord]:
        return [
            PassageRecord(job_id, i, f"passage {i}", 10 * i, 10 * i + 9, (i + 1,), ("Intro", f"S{i}"), 3)
            for i in range(count)
        ]

    def test_embedding_fans_in_to_indexing_exactly_once(self, store: JobStore) -> None:
        self.merging_retrieval_job(store)
        assert store.start_embedding("job1", self.passages("job1", 30))
        assert not store.start_embedding("job1", self.passages("job1", 30)), "only a merging job starts embedding"
        job = store.get("job1")
        assert job and job.stage is Stage.EMBEDDING and job.message == "Embedding: 0 of 30 passages"
        batch = store.passages_to_embed("job1", 10, 10)
        assert [p.index for p in batch] == list(range(10, 20)) and batch[0].headings == ("Intro", "S10")
        assert batch[0].pages == (11,) and (batch[0].start, batch[0].end) == (100, 109) and batch[0].vector is None
        assert not store.save_vectors("job1", [(i, bytes([i]) * 8) for i in range(10, 20)])
        assert store.unembedded_passages("job1") == [*range(10), *range(20, 30)]
        job = store.get("job1")
        assert job and job.message == "Embedding: 10 of 30 passages" and 96 < job.progress < 99
        assert store.passages_to_embed("job1", 10, 10) == [], "embedded passages are not handed out again"
        lasts: list[bool] = []
        barrier = threading.Barrier(4)

        def save(indexes: list[int]) -> None:
            barrier.wait()
            lasts.append(store.save_vectors("job1", [(i, bytes([i]) * 8) for i in indexes]))

        groups = [list(range(0, 10)), list(range(20, 25)), list(range(25, 30)), list(range(10, 20))]
        threads = [threading.Thread(target=save, args=(group,)) for group in groups]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(lasts) == [False, False, False, True], "exactly one batch hands the job to indexing"
        job = store.get("job1")
        assert job and job.stage is Stage.INDEXING and job.progress == 99
        assert not store.save_vectors("job1", [(12, b"x" * 8)]), "once indexing, nobody else is last"
        assert store.passage_vectors("job1")[12] == (12, bytes([12]) * 8), "the first vector written is kept"
        listed = store.list_passages("job1", vectors=True)
        assert len(listed) == 30 and listed[3].vector == bytes([3]) * 8
        assert store.list_passages("job1")[3].vector is None, "vectors only when asked"
        assert [p.text for p in store.passages_at("job1", [7, 2])] == ["passage 2", "passage 7"]

    def test_searchable_jobs_are_completed_retrieval_jobs_of_the_user_with_files(self, store: JobStore) -> None:
        for job_id, user in (("a1", "ann"), ("a2", "ann"), ("b1", "bob")):
            self.merging_retrieval_job(store, job_id, user)
            store.start_embedding(job_id, self.passages(job_id, 2))
            store.save_vectors(job_id, [(0, b"\0" * 8), (1, b"\1" * 8)])
            store.finish(job_id, JobStatus.COMPLETED, "done")
        store.create(new_job("text-job", user="ann"))
        assert set(store.searchable_jobs()) == {"a1", "a2", "b1"} and set(store.searchable_jobs("bob")) == {"b1"}
        store.mark_purged("a2", "Files deleted by ann")
        assert set(store.searchable_jobs("ann")) == {"a1"}
        assert store.list_passages("a2") == [] and store.passage_vectors("a2") == [], "purging forgets passages"

    def searchable_job(self, store: JobStore, job_id: str, user: str, texts: list[str]) -> None:
        self.merging_retrieval_job(store, job_id, user)
        assert store.start_embedding(
            job_id, [PassageRecord(job_id, i, t, 0, len(t), (1,), (), 9) for i, t in enumerate(texts)]
        )
        store.save_vectors(job_id, [(i, b"\0" * 8) for i in range(len(texts))])
        store.finish(job_id, JobStatus.COMPLETED, "done")

    def test_keyword_passages_rank_exact_identifiers_within_scope_and_forget_purged_jobs(self, store: JobStore) -> None:
        self.searchable_job(
            store,
            "a1",
            "ann",
            [
                "The invoice INV-2027-0042 was paid in March.",
                "Invoice INV-2027-0043 is still open, as Satz 2.3.5 allows.",
                "Nothing about those here; Satz 2.3.6 and 2027 only.",
                'Odd text: "quoted" NEAR(a b) OR * ^col: - AND',
            ],
        )
        self.searchable_job(store, "b1", "bob", ["Bob's copy of invoice INV-2027-0042."])
        self.merging_retrieval_job(store, "c1", "ann")  # still embedding: not searchable yet
        store.start_embedding("c1", [PassageRecord("c1", 0, "INV-2027-0042 draft", 0, 19, (1,), (), 3)])

        def found(phrases: list[str], **scope: object) -> list[tuple[str, int]]:
            return [(job, idx) for job, idx, _ in store.keyword_passages(phrases, limit=10, **scope)]  # type: ignore[arg-type]

        assert found(["INV-2027-0042"], user="ann") == [("a1", 0)], "the identifier whole, not its parts"
        assert found(["Satz 2.3.5"], user="ann") == [("a1", 1)]
        assert set(found(["INV-2027-0042"])) == {("a1", 0), ("b1", 0)}, "no user: every user's jobs"
        assert found(["INV-2027-0042"], user="ann", jobs=["b1"]) == [], "another user's job stays hidden"
        assert found(["INV-2027-0042"], jobs=["b1"]) == [("b1", 0)]
        ranked = store.keyword_passages(["invoice", "INV-2027-0043", "Satz 2.3.5"], limit=10, user="ann")
        assert [idx for _, idx, _ in ranked] == [1, 0] and ranked[0][2] > ranked[1][2] > 0, "most matches first"
        assert found(["invoice"], user="ann", jobs=[]) == [] and found([" "], user="ann") == []
        hostile = ['"quoted', "NEAR(a", "*", "OR", "^col:", 'a"b', "-", "AND"]
        assert ("a1", 3) in found(hostile, user="ann"), "query syntax in the user's text is matched as text"
        assert len(store.keyword_passages(["2027"], limit=1)) == 1
        store.mark_purged("a1", "Files deleted by ann")
        assert found(["INV-2027-0042"]) == [("b1", 0)] and found(["Satz"]) == [], "purging forgets the words too"

    def test_a_stale_embedding_job_is_handed_back_once(self, store: JobStore) -> None:
        self.merging_retrieval_job(store)
        store.start_embedding("job1", self.passages("job1", 4))
        assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], ["job1"])
        assert store.recover_stale(older_than=time.time() - 60, max_attempts=3) == ([], [], [])
        job = store.get("job1")
        assert job and job.stage is Stage.EMBEDDING and "again" in job.message

    def test_requeue_puts_a_chunk_back_for_another_attempt(self, store: JobStore) -> None:
        self.running_job(store)
        store.claim_chunk("job1", 0, "w")
        store.requeue_chunk("job1", 0, "transient")
        again = store.claim_chunk("job1", 0, "w2")
        assert again and again.attempts == 2 and again.error == "transient"

    def test_finish_is_final(self, store: JobStore) -> None:
        self.running_job(store)
        assert store.finish("job1", JobStatus.CANCELED, "Canceled")
        assert not store.finish("job1", JobStatus.COMPLETED, "late")
        assert store.claim_chunk("job1", 1, "w") is None
        assert {c.status for c in store.list_chunks("job1")} == {ChunkStatus.CANCELED}

    def test_changes_since_returns_only_what_changed(self, store: JobStore) -> None:
        self.running_job(store)
        store.create(new_job("other"))
        mark = store.changes_since(0).revision
        assert store.changes_since(mark).jobs == []
        store.claim_chunk("job1", 2, "w")
        changes = store.changes_since(mark)
        assert [j.id for j in changes.jobs] == ["job1"]
        assert [(c.job_id, c.index) for c in changes.chunks] == [("job1", 2)]
        assert changes.revision > mark

    def test_every_stage_change_and_progress_step_is_an_event(self, store: JobStore) -> None:
        self.running_job(store, pages=30, chunk_pages=30)
        store.claim_chunk("job1", 0, "w")
        store.update_chunk_progress("job1", 0, 5)
        store.finish_chunk("job1", 0, ChunkStatus.DONE)
        store.finish("job1", JobStatus.COMPLETED, "done")
        kinds = [e.kind for e in store.list_events("job1")]
        assert kinds == ["created", "stage", "stage", "chunk_started", "progress", "chunk_done", "stage", "status"]
        assert store.list_events("job1")[-1].status == "completed"

    def test_find_completed_ignores_other_settings_and_cached_jobs(self, store: JobStore) -> None:
        store.create(new_job("a"))
        store.start("a")
        store.finish("a", JobStatus.COMPLETED, "ok")
        store.create(new_job("b", cached_from="a", status=JobStatus.COMPLETED))
        found = store.find_completed("abc", "text", "local")
        assert found and found.id == "a"
        assert store.find_completed("abc", "markdown", "local") is None

    def test_notes_are_kept_once(self, store: JobStore) -> None:
        store.create(new_job())
        store.add_note("job1", "OCR unavailable")
        store.add_note("job1", "OCR unavailable")
        job = store.get("job1")
        assert job and job.notes == ("OCR unavailable",)

    def test_worker_heartbeats(self, store: JobStore) -> None:
        store.beat_worker("h:1", "h", 1)
        store.beat_worker("h:1", "h", 1)
        assert [(w.id, w.host, w.pid) for w in store.list_workers(max_age_s=60)] == [("h:1", "h", 1)]
        time.sleep(0.3)
        store.beat_worker("h:2", "h", 2)
        assert [w.id for w in store.list_workers(max_age_s=0.2)] == ["h:2"], "an old beat is not a live worker"
        assert [w.id for w in store.list_workers(max_age_s=60)] == ["h:2", "h:1"], "most recent beat first"
        assert {w.id for w in store.list_workers()} == {"h:1", "h:2"}

    def test_a_worker_that_said_goodbye_is_not_listed_until_it_beats_again(self, store: JobStore) -> None:
        store.beat_worker("h:1", "h", 1)
        store.beat_worker("h:2", "h", 2)
        store.worker_stopped(["h:1", "h:9"])
        assert [w.id for w in store.list_workers(max_age_s=60)] == ["h:2"]
        store.beat_worker("h:1", "h", 1)  # the same id alive again (a new process with a reused pid)
        assert {w.id for w in store.list_workers(max_age_s=60)} == {"h:1", "h:2"}

    def test_only_the_owning_attempt_may_report_or_finish(self, store: JobStore) -> None:
        self.running_job(store)
        first = store.claim_chunk("job1", 0, "w1")
        assert first is not None
        (recovered, _, _) = store.recover_stale(older_than=time.time() + 1, max_attempts=3)  # as if w1 went silent
        assert recovered == [("job1", 0)]
        second = store.claim_chunk("job1", 0, "w2")
        assert second is not None and second.attempts == first.attempts + 1
        assert not store.update_chunk_progress("job1", 0, 3, attempt=first.attempts), "a presumed-dead worker"
        assert not store.finish_chunk("job1", 0, ChunkStatus.DONE, attempt=first.attempts)
        assert store.update_chunk_progress("job1", 0, 3, attempt=second.attempts)
        assert not store.finish_chunk("job1", 0, ChunkStatus.DONE, attempt=second.attempts)  # 2 chunks still open
        assert store.list_chunks("job1")[0].status is ChunkStatus.DONE

    def test_a_chunk_whose_worker_dies_every_time_fails_after_its_attempts(self, store: JobStore) -> None:
        self.running_job(store, pages=30, chunk_pages=15)
        store.claim_chunk("job1", 1, "w0")
        assert not store.finish_chunk("job1", 1, ChunkStatus.DONE)
        for attempt in (1, 2):
            claimed = store.claim_chunk("job1", 0, f"w{attempt}")
            assert claimed is not None and claimed.attempts == attempt
            assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([("job1", 0)], [], [])
        last = store.claim_chunk("job1", 0, "w3")
        assert last is not None and last.attempts == 3
        assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], ["job1"]), (
            "out of attempts: failed, and the job (its last chunk ended) goes on to merge"
        )
        chunk = store.list_chunks("job1")[0]
        assert chunk.status is ChunkStatus.FAILED and chunk.finished_at is not None
        assert chunk.error == "The worker stopped while reading pages 1-15 (crash or out of memory), 3 times"
        job = store.get("job1")
        assert job and job.stage is Stage.MERGING and job.chunks_failed == 1 and job.chunks_done == 1
        assert store.recover_stale(older_than=time.time() - 60, max_attempts=3) == ([], [], []), "handed out once"
        failed = [e for e in store.list_events("job1") if e.kind == "chunk_failed"]
        assert [e.chunk_index for e in failed] == [0] and "3 times" in failed[0].message

    def test_retry_gives_a_chunk_its_whole_budget_and_keeps_old_attempts_fenced(self, store: JobStore) -> None:
        self.running_job(store, pages=15, chunk_pages=15)
        for _ in range(2):
            store.claim_chunk("job1", 0, "w")
            store.recover_stale(older_than=time.time() + 1, max_attempts=2)
        assert store.get("job1").stage is Stage.MERGING  # type: ignore[union-attr]
        store.finish("job1", JobStatus.FAILED, "lost", error="lost")
        assert store.retry_failed("job1") == [0]
        again = store.claim_chunk("job1", 0, "w2")
        assert again is not None and again.attempts == 3 and again.attempts_used == 1, "a whole budget again"
        assert not store.update_chunk_progress("job1", 0, 1, attempt=2), "an attempt from before the retry"
        assert store.recover_stale(older_than=time.time() + 1, max_attempts=2) == ([("job1", 0)], [], [])
        assert store.list_chunks("job1")[0].status is ChunkStatus.QUEUED

    def test_a_chunk_handed_back_by_a_stopping_worker_costs_no_attempt(self, store: JobStore) -> None:
        self.running_job(store, pages=15, chunk_pages=15)
        first = store.claim_chunk("job1", 0, "w1")
        assert first is not None and store.update_chunk_progress("job1", 0, 4, attempt=first.attempts)
        assert store.release_chunk("job1", 0, attempt=first.attempts)
        assert not store.release_chunk("job1", 0, attempt=first.attempts), "handed back once"
        chunk = store.list_chunks("job1")[0]
        assert chunk.status is ChunkStatus.QUEUED and chunk.pages_done == 0 and chunk.attempts_used == 0
        again = store.claim_chunk("job1", 0, "w2")
        assert again is not None and again.attempts == 2 and again.attempts_used == 1
        assert not store.update_chunk_progress("job1", 0, 5, attempt=first.attempts), "still fenced out"
        assert "its worker is stopping" in store.list_events("job1")[-2].message

    def test_a_merge_lost_every_time_fails_its_job(self, store: JobStore) -> None:
        self.merging_retrieval_job(store)  # merging now
        for lost in (1, 2):
            assert store.begin_step("job1", Stage.MERGING), "a worker begins the merge, and dies"
            assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], ["job1"])
            job = store.get("job1")
            assert job and job.status is JobStatus.RUNNING and job.step_recoveries == lost
        assert store.begin_step("job1", Stage.MERGING)
        assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], [])
        job = store.get("job1")
        assert job and job.status is JobStatus.FAILED and job.stage is Stage.MERGING
        assert job.error.startswith("The worker stopped while merging the chunk results (crash or out of memory), 3")
        assert store.list_events("job1")[-1].message == job.error
        assert job.can_retry and store.retry_failed("job1") == [], "no chunk to run again, only the merge"
        assert store.retry_step("job1")
        assert not store.retry_step("job1"), "reopened once"
        job = store.get("job1")
        assert job and job.status is JobStatus.RUNNING and job.stage is Stage.MERGING and not job.error
        assert job.step_recoveries == 0 and job.finished_at is None, "the merge has its whole budget again"
        assert store.list_events("job1")[-1].kind == "retry"

    def test_a_merge_no_worker_began_is_queued_again_at_no_cost(self, store: JobStore) -> None:
        self.merging_retrieval_job(store)  # merging, its task waiting in a long queue
        for _ in range(5):
            assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], ["job1"])
        job = store.get("job1")
        assert job and job.status is JobStatus.RUNNING and job.step_recoveries == 0
        assert store.begin_step("job1", Stage.MERGING)
        store.end_step("job1")  # a merge that ended (its outcome written elsewhere) is not a lost one
        assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], ["job1"])
        job = store.get("job1")
        assert job and job.step_recoveries == 0
        assert not store.begin_step("job1", Stage.PREPARING), "the job is not in that step"

    def test_each_step_has_its_own_attempts_and_a_beating_step_is_left_alone(self, store: JobStore) -> None:
        self.merging_retrieval_job(store)
        store.recover_stale(older_than=time.time() + 1, max_attempts=3)
        store.recover_stale(older_than=time.time() + 1, max_attempts=3)
        assert store.start_embedding("job1", self.passages("job1", 2))
        job = store.get("job1")
        assert job and job.step_recoveries == 0, "embedding starts with its whole budget"
        before, revision = job.updated_at, store.changes_since(0).revision
        assert store.beat_step("job1", Stage.EMBEDDING)
        assert not store.beat_step("job1", Stage.MERGING), "the job has left that step"
        beaten = store.get("job1")
        assert beaten and beaten.updated_at >= before and beaten.message == job.message
        assert store.changes_since(0).revision == revision, "a beat is no change readers need to see"
        assert store.recover_stale(older_than=beaten.updated_at - 1, max_attempts=3) == ([], [], [])

    def test_retry_step_reopens_only_a_failed_job_whose_chunks_are_all_done(self, store: JobStore) -> None:
        self.running_job(store, pages=30, chunk_pages=15)
        store.claim_chunk("job1", 0, "w")
        store.claim_chunk("job1", 1, "w")
        store.finish_chunk("job1", 0, ChunkStatus.DONE)
        store.finish_chunk("job1", 1, ChunkStatus.FAILED, error="boom")
        store.finish("job1", JobStatus.FAILED, "1 of 2 chunks failed", error="1 of 2 chunks failed")
        assert not store.retry_step("job1"), "a failed chunk is retried with retry_failed"
        store.create(new_job("refused", status=JobStatus.FAILED, error="not a PDF"))
        assert not store.retry_step("refused") and not store.get("refused").can_retry  # type: ignore[union-attr]

    def test_a_canceled_job_runs_again_where_it_stopped(self, store: JobStore) -> None:
        self.running_job(store, pages=45, chunk_pages=15)
        assert store.claim_chunk("job1", 0, "w")
        store.finish_chunk("job1", 0, ChunkStatus.DONE)
        old_attempt = store.claim_chunk("job1", 1, "w")
        assert old_attempt
        assert store.run_canceled_again("job1") == ("", []), "only a canceled job"
        assert store.cancel("job1")
        assert store.run_canceled_again("job1") == ("chunks", [1, 2])
        assert store.run_canceled_again("job1") == ("", []), "reopened once"
        job = store.get("job1")
        assert job and job.status is JobStatus.RUNNING and job.stage is Stage.EXTRACTING and job.finished_at is None
        assert job.chunks_done == 1
        assert [c.status for c in store.list_chunks("job1")] == [
            ChunkStatus.DONE,
            ChunkStatus.QUEUED,
            ChunkStatus.QUEUED,
        ]
        store.finish_chunk("job1", 1, ChunkStatus.DONE, attempt=old_attempt.attempts)
        assert store.list_chunks("job1")[1].status is ChunkStatus.QUEUED, "the attempt from before stays fenced out"
        again = store.list_events("job1")[-1]
        assert again.kind == "retry" and again.message == "Running again after it was canceled: 2 chunks to do"

        store.create(new_job("waiting"))
        assert store.cancel("waiting")
        assert store.run_canceled_again("waiting") == ("document", []), "canceled before it was split: from the start"
        waiting = store.get("waiting")
        assert waiting and waiting.status is JobStatus.QUEUED and waiting.stage is Stage.QUEUED
        assert store.start("waiting"), "a worker prepares it as a new upload"

        self.running_job(store, "merged", pages=15, chunk_pages=15)
        assert store.claim_chunk("merged", 0, "w") and store.finish_chunk("merged", 0, ChunkStatus.DONE)
        assert store.get("merged").stage is Stage.MERGING  # type: ignore[union-attr]
        assert store.cancel("merged")
        assert store.run_canceled_again("merged") == ("merge", []), "every chunk done: it merges again"
        merged = store.get("merged")
        assert merged and merged.status is JobStatus.RUNNING and merged.stage is Stage.MERGING

        store.create(new_job("purged"))
        assert store.cancel("purged")
        store.mark_purged("purged", "Files deleted by ann")
        assert store.run_canceled_again("purged") == ("", []), "its files are gone"

    def test_the_oldest_queued_job_is_the_one_waiting_longest(self, store: JobStore) -> None:
        assert store.oldest_queued() is None
        store.create(new_job("first"))
        time.sleep(0.01)
        store.create(new_job("second"))
        oldest = store.oldest_queued()
        assert oldest and oldest.id == "first"
        assert store.start("first")
        oldest = store.oldest_queued()
        assert oldest and oldest.id == "second"

    def test_a_preparation_lost_every_time_fails_its_job(self, store: JobStore) -> None:
        store.create(new_job())
        for lost in (1, 2):
            assert store.start("job1")
            assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], ["job1"], [])
            job = store.get("job1")
            assert job and job.status is JobStatus.QUEUED and job.step_recoveries == lost
        assert store.start("job1")
        assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], [])
        job = store.get("job1")
        assert job and job.status is JobStatus.FAILED
        assert job.error.startswith("The worker stopped while preparing this document (crash or out of memory), 3")

    def test_recovery_leaves_live_chunks_and_finished_jobs_alone(self, store: JobStore) -> None:
        self.running_job(store)
        store.claim_chunk("job1", 0, "w")
        assert store.recover_stale(older_than=time.time() - 60, max_attempts=3) == ([], [], [])
        store.cancel("job1")
        assert store.recover_stale(older_than=time.time() + 1, max_attempts=3) == ([], [], [])

    def test_a_job_lost_while_preparing_is_queued_again(self, store: JobStore) -> None:
        store.create(new_job())
        store.start("job1")
        _, preparing, _ = store.recover_stale(older_than=time.time() + 1, max_attempts=3)
        assert preparing == ["job1"]
        job = store.get("job1")
        assert job and job.status is JobStatus.QUEUED and store.start("job1")

    def test_a_preparation_waiting_out_a_fault_is_kept_alive_and_says_so(self, store: JobStore) -> None:
        store.create(new_job())
        store.start("job1")
        time.sleep(0.05)
        cutoff = time.time()
        store.beat_job("job1")
        store.record_wait("job1", "Waiting for the object store: down; retrying")
        assert store.recover_stale(older_than=cutoff, max_attempts=3) == ([], [], []), "a job that beats is not lost"
        waits = [e for e in store.list_events("job1") if e.kind == "waiting"]
        assert [(e.message, e.chunk_index) for e in waits] == [("Waiting for the object store: down; retrying", None)]
        store.beat_job("nope")  # an unknown job: nothing to do

    def test_cancel_is_final_and_cancels_every_open_chunk(self, store: JobStore) -> None:
        self.running_job(store)
        store.claim_chunk("job1", 1, "w")
        assert store.cancel("job1")
        assert not store.cancel("job1")
        assert {c.status for c in store.list_chunks("job1")} == {ChunkStatus.CANCELED}
        assert not store.update_chunk_progress("job1", 1, 5)
        assert not store.finish_chunk("job1", 1, ChunkStatus.DONE)
        assert store.retry_failed("job1") == []
        job = store.get("job1")
        assert job and job.status is JobStatus.CANCELED

    def test_a_late_smaller_page_count_never_moves_progress_back(self, store: JobStore) -> None:
        self.running_job(store)
        store.claim_chunk("job1", 0, "w")
        assert store.update_chunk_progress("job1", 0, 10)
        before = store.get("job1")
        assert store.update_chunk_progress("job1", 0, 3), "still the owner: a heartbeat"
        after = store.get("job1")
        assert before and after and after.progress == before.progress and store.list_chunks("job1")[0].pages_done == 10

    def test_a_chunk_over_its_time_limit_is_retried_then_failed(self, store: JobStore) -> None:
        self.running_job(store, pages=30)
        first = store.claim_chunk("job1", 0, "w1")
        store.claim_chunk("job1", 1, "w1")
        assert first is not None
        assert store.expire_overdue(time.time() - 60, max_attempts=2, limit_s=60) == ([], [])
        requeued, merge = store.expire_overdue(time.time() + 1, max_attempts=2, limit_s=60)
        assert sorted(requeued) == [("job1", 0), ("job1", 1)] and merge == []
        assert not store.update_chunk_progress("job1", 0, 2, attempt=first.attempts), "the stuck attempt is fenced"
        chunk = store.list_chunks("job1")[0]
        assert chunk.status is ChunkStatus.QUEUED and chunk.error == "Chunk 1 ran over its 60 s time limit (stuck)"
        store.claim_chunk("job1", 1, "w2")
        assert store.finish_chunk("job1", 1, ChunkStatus.DONE) is False
        second = store.claim_chunk("job1", 0, "w2")
        assert second is not None and second.attempts == 2
        requeued, merge = store.expire_overdue(time.time() + 1, max_attempts=2, limit_s=60)
        assert requeued == [] and merge == ["job1"], "out of attempts: failed, and the job goes on to merge"
        assert store.list_chunks("job1")[0].status is ChunkStatus.FAILED
        job = store.get("job1")
        assert job and job.stage is Stage.MERGING and job.chunks_failed == 1

    def test_set_stage_moves_a_running_job_and_says_so(self, store: JobStore) -> None:
        store.create(new_job())
        store.set_stage("job1", Stage.SPLITTING, "Splitting 45 pages into 3 chunks", 3.0)
        assert store.get("job1").stage is Stage.QUEUED, "only a running job moves"  # type: ignore[union-attr]
        store.start("job1")
        store.set_stage("job1", Stage.SPLITTING, "Splitting 45 pages into 3 chunks", 3.0)
        job = store.get("job1")
        assert job and (job.stage, job.message, job.progress) == (
            Stage.SPLITTING,
            "Splitting 45 pages into 3 chunks",
            3.0,
        )
        last = store.list_events("job1")[-1]
        assert (last.kind, last.stage, last.message) == ("stage", "splitting", "Splitting 45 pages into 3 chunks")

    def test_record_document_merges_what_preparing_learnt(self, store: JobStore) -> None:
        store.create(new_job(pages=0, meta={"instruction": "totals"}))
        store.record_document("job1", pages=7, compressed_bytes=1234, meta={"title": "Q3"})
        job = store.get("job1")
        assert job and job.pages == 7 and job.compressed_bytes == 1234
        assert job.meta == {"instruction": "totals", "title": "Q3"}

    def test_copy_outcome_gives_a_cached_job_the_figures_it_reuses(self, store: JobStore) -> None:
        self.running_job(store, "src", pages=30, chunk_pages=15)
        for index in range(2):
            store.claim_chunk("src", index, "w")
            store.finish_chunk("src", index, ChunkStatus.DONE)
        store.record_document("src", pages=30, compressed_bytes=99, meta={"title": "T"})
        store.add_note("src", "Text on pages 3 was read by OCR.")
        store.finish("src", JobStatus.COMPLETED, "Completed: 30 pages extracted")
        source = store.get("src")
        assert source is not None
        store.create(new_job("copy", status=JobStatus.COMPLETED, stage=Stage.COMPLETED, cached_from="src"))
        store.copy_outcome("copy", source)
        copy = store.get("copy")
        assert copy and (copy.pages, copy.pages_done, copy.chunks_total, copy.chunks_done) == (30, 30, 2, 2)
        assert copy.compressed_bytes == 99 and copy.notes == source.notes and copy.meta == {"title": "T"}

    def test_user_usage_counts_active_jobs_and_uploads_that_were_not_refused(self, store: JobStore) -> None:
        store.create(new_job("q", user="ann"))
        store.create(new_job("r", user="ann"))
        store.start("r")
        store.create(new_job("done", user="ann"))
        store.finish("done", JobStatus.COMPLETED, "ok")
        store.create(new_job("refused", user="ann", status=JobStatus.FAILED, error="Limit", meta={"refused": "limit"}))
        store.create(new_job("bob", user="bob"))
        active, uploads = store.user_usage("ann", since=0)
        assert active == 2 and len(uploads) == 3 and uploads == sorted(uploads)
        assert store.user_usage("ann", since=time.time() + 60) == (2, [])

    def test_record_chunk_usage_totals_the_job_from_its_chunks(self, store: JobStore) -> None:
        self.running_job(store, pages=30, chunk_pages=15)
        store.record_chunk_usage("job1", 0, 100, 20, 0.25)
        store.record_chunk_usage("job1", 0, 50, 5, 0.125)
        store.record_chunk_usage("job1", 1, 10, 1, 0.5)
        chunks = store.list_chunks("job1")
        assert [(c.input_tokens, c.output_tokens, c.cost_usd) for c in chunks] == [(150, 25, 0.375), (10, 1, 0.5)]
        job = store.get("job1")
        assert job and (job.input_tokens, job.output_tokens, job.cost_usd) == (160, 26, 0.875)

    def test_retry_failed_reopens_only_the_failed_chunks(self, store: JobStore) -> None:
        self.running_job(store, pages=45, chunk_pages=15)
        for index in range(3):
            store.claim_chunk("job1", index, "w")
        store.finish_chunk("job1", 0, ChunkStatus.DONE)
        store.finish_chunk("job1", 1, ChunkStatus.FAILED, error="boom")
        assert store.finish_chunk("job1", 2, ChunkStatus.FAILED, error="bang")
        assert store.retry_failed("job1") == [], "the job has not ended failed yet"
        store.finish("job1", JobStatus.FAILED, "2 of 3 chunks failed", error="2 of 3 chunks failed")
        assert store.retry_failed("job1") == [1, 2]
        job = store.get("job1")
        assert job and job.status is JobStatus.RUNNING and job.stage is Stage.EXTRACTING and not job.error
        assert [c.status for c in store.list_chunks("job1")] == [
            ChunkStatus.DONE,
            ChunkStatus.QUEUED,
            ChunkStatus.QUEUED,
        ]
        assert store.retry_failed("job1") == []

    def test_list_all_chunks_is_by_job_then_page(self, store: JobStore) -> None:
        self.running_job(store, "b", pages=30, chunk_pages=15)
        self.running_job(store, "a", pages=15, chunk_pages=15)
        assert [(c.job_id, c.index) for c in store.list_all_chunks()] == [("a", 0), ("b", 0), ("b", 1)]

    def test_stranded_lists_quiet_queued_work(self, store: JobStore) -> None:
        self.running_job(store, pages=30, chunk_pages=15)
        store.claim_chunk("job1", 0, "w")
        store.create(new_job("waiting"))
        assert store.stranded(time.time() - 60) == ([], []), "nothing has been quiet that long"
        assert store.stranded(time.time() + 1) == ([("job1", 1)], ["waiting"])

    def test_retention_records_use_and_purges(self, store: JobStore) -> None:
        for job_id in ("old", "used", "new"):
            store.create(new_job(job_id))
            store.finish(job_id, JobStatus.COMPLETED, "ok")
            time.sleep(0.01)
        store.create(new_job("running"))
        assert [j.id for j in store.purge_candidates()] == ["old", "used", "new"], "finished jobs, oldest first"
        store.touch("used")
        assert [j.id for j in store.purge_candidates()] == ["old", "new", "used"], "a result read counts as use"
        store.mark_purged("old", "Files purged to stay within PAPERLINE_MAX_JOBS=2")
        old = store.get("old")
        assert old and old.purged_at and old.notes == ("Files purged to stay within PAPERLINE_MAX_JOBS=2",)
        assert old.status is JobStatus.COMPLETED and "purged" in [e.kind for e in store.list_events("old")]
        assert [j.id for j in store.purge_candidates()] == ["new", "used"]

    def test_events_page_through_the_log(self, store: JobStore) -> None:
        self.running_job(store)
        store.create(new_job("other"))
        every = store.list_events()
        assert [e.id for e in every] == sorted(e.id for e in every) and {e.job_id for e in every} == {"job1", "other"}
        assert store.list_events(after_id=every[1].id, limit=2) == every[2:4]

    def test_status_counts_count_jobs_and_chunks_by_status(self, store: JobStore) -> None:
        assert store.status_counts() == ({}, {})
        self.running_job(store, pages=30, chunk_pages=15)
        store.claim_chunk("job1", 0, "w")
        store.create(new_job("waiting"))
        store.create(new_job("refused", status=JobStatus.FAILED, error="empty"))
        assert store.status_counts() == ({"running": 1, "queued": 1, "failed": 1}, {"running": 1, "queued": 1})

    def test_waiting_for_a_change_comes_back(self, store: JobStore) -> None:
        assert isinstance(store.wait_for_change(0.05), bool), "bounded whether or not anything changed"
        store.create(new_job())
        assert store.wait_for_change(0.05) or not store.notifies_changes

    def test_api_tokens_are_found_by_digest_until_revoked_and_listed_per_user(self, store: JobStore) -> None:
        from pipeline.core.models import ApiToken

        store.add_token(ApiToken("t1", "ann", "laptop", 100.0), "digest-1")
        store.add_token(ApiToken("t2", "ann", "etl", 200.0), "digest-2")
        store.add_token(ApiToken("t3", "bob", "", 300.0), "digest-3")
        assert store.token_for("digest-2") == ApiToken("t2", "ann", "etl", 200.0)
        assert store.token_for("nope") is None
        assert [t.id for t in store.list_tokens("ann")] == ["t2", "t1"], "newest first, one user's"
        assert [t.id for t in store.list_tokens()] == ["t3", "t2", "t1"]
        assert store.revoke_token("t3", user="ann") is False, "only one's own"
        assert store.revoke_token("t2", user="ann") is True
        assert store.revoke_token("t2") is False, "already revoked"
        assert store.token_for("digest-2") is None and store.token_for("digest-3") is not None
        revoked = store.list_tokens("ann")[0]
        assert revoked.id == "t2" and revoked.revoked_at is not None, "a revoked token stays listed"
        with pytest.raises(Exception):  # noqa: B017  (each backend raises its own integrity error)
            store.add_token(ApiToken("t4", "eve", "", 400.0), "digest-1")

    def test_creation_within_limits_lets_no_more_pass_than_the_limit(self, store: JobStore) -> None:
        """Parallel creations of one user, each counting the user's active jobs in its own transaction: however
        they interleave, no more than the limit pass (the check sleeps to widen any gap between count and insert)."""
        limit, callers = 3, 12
        store.create(new_job("other-user", user="bob"))  # another user's jobs never count
        passed, refused, errors = [], [], []
        start = threading.Barrier(callers)

        def check(active: int, uploads: list[float]) -> None:
            time.sleep(0.02)
            if active >= limit:
                raise OverLimit(f"{active} active")

        def create(i: int) -> None:
            start.wait()
            try:
                store.create_within_limits(new_job(f"j{i}"), since=time.time() - 3600, check=check)
                passed.append(i)
            except OverLimit:
                refused.append(i)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == [] and len(passed) == limit and len(refused) == callers - limit
        assert sorted(j.id for j in store.list_recent(user="ann")) == sorted(f"j{i}" for i in passed)
        assert all(store.list_events(f"j{i}") == [] for i in refused), "a refused creation records nothing"

    def test_creation_within_limits_sees_the_usage_user_usage_reports(self, store: JobStore) -> None:
        store.create(new_job("a"))
        store.create(new_job("b", status=JobStatus.FAILED, error="empty"))
        seen = []
        store.create_within_limits(new_job("c"), since=0, check=lambda active, uploads: seen.append((active, uploads)))
        [(active, uploads)] = seen
        assert active == 1 and len(uploads) == 2, "queued 'a' is active; 'a' and 'b' were uploaded"
        assert store.user_usage("ann", since=0)[0] == 2

    def test_purge_candidates_of_one_user(self, store: JobStore) -> None:
        for job_id, user in (("a1", "ann"), ("b1", "bob"), ("a2", "ann")):
            store.create(new_job(job_id, user=user))
            store.finish(job_id, JobStatus.COMPLETED, "ok")
            time.sleep(0.01)
        assert [j.id for j in store.purge_candidates("ann")] == ["a1", "a2"]
        assert [j.id for j in store.purge_candidates("bob")] == ["b1"]
        assert [j.id for j in store.purge_candidates()] == ["a1", "b1", "a2"]

    def test_api_tokens_keep_their_expiry_and_a_user_s_tokens_are_revoked_together(self, store: JobStore) -> None:
        from pipeline.core.models import ApiToken

        store.add_token(ApiToken("t1", "ann", "", 100.0, expires_at=5000.0), "d1")
        store.add_token(ApiToken("t2", "ann", "", 200.0), "d2")
        store.add_token(ApiToken("t3", "bob", "", 300.0), "d3")
        token = store.token_for("d1")
        assert token is not None and token.expires_at == 5000.0 and token.expired(5000.0) and not token.expired(1.0)
        assert store.revoke_user_tokens("ann") == 2
        assert store.revoke_user_tokens("ann") == 0, "already revoked"
        assert store.token_for("d1") is None and store.token_for("d2") is None and store.token_for("d3") is not None

    def test_a_batch_sums_up_its_jobs_in_one_query(self, store: JobStore) -> None:
        batch = store.create_batch(Batch("b1", "ann", "3 documents", time.time(), 3))
        assert store.get_batch("b1") == batch and store.get_batch("nope") is None
        empty = store.batch_totals("b1")
        assert empty is not None and empty.total == 0 and not empty.is_final and empty.progress == 0
        for job_id, pages in (("a", 30), ("b", 10), ("c", 5)):
            store.create(new_job(job_id, pages=pages, batch_id="b1", priority=2))
        store.create(new_job("loose"))
        assert store.get("a").batch_id == "b1" and store.get("a").priority == 2  # type: ignore[union-attr]
        assert store.get("loose").batch_id is None and store.get("loose").priority == 0  # type: ignore[union-attr]
        assert [j.id for j in store.list_recent(batch="b1")] == ["c", "b", "a"]
        self.running_job(store, "x", pages=30)  # another job's work counts nowhere in the batch
        assert store.start("a")
        chunks = store.plan_chunks("a", plan_chunks(30, 15, 1))
        assert store.claim_chunk("a", chunks[0].index, "w1") is not None
        assert store.update_chunk_progress("a", 0, 6)
        store.cancel("c")
        totals = store.batch_totals("b1")
        assert totals is not None and totals.batch == batch
        assert totals.counts == {"queued": 1, "running": 1, "completed": 0, "failed": 0, "canceled": 1}
        assert (totals.pages, totals.pages_done) == (45, 6)
        assert totals.started_at == store.get("a").started_at and totals.finished_at is None  # type: ignore[union-attr]
        a = store.get("a")
        assert a is not None and totals.progress == pytest.approx((a.progress + 0 + 100) / 3, abs=1)
        store.cancel("a")
        store.finish("b", JobStatus.FAILED, "broken", error="broken")
        ended = store.batch_totals("b1")
        assert ended is not None and ended.is_final and ended.progress == 100
        assert ended.finished_at == max(store.get(j).finished_at for j in "abc")  # type: ignore[union-attr,type-var]
        store.create_batch(Batch("b2", "bob", "", time.time() + 1, 1))
        assert [b.id for b in store.list_batches()] == ["b2", "b1"]
        assert [b.id for b in store.list_batches(user="ann")] == ["b1"]
        assert len(store.list_batches(limit=1)) == 1
        assert store.batch_totals("nope") is None

    def test_a_batch_is_not_over_while_some_of_its_documents_are_not_jobs_yet(self, store: JobStore) -> None:
        # Jobs are created one by one, each through intake: the first (refused at intake here) ends before the
        # second exists, and that ends neither the batch nor half of its progress.
        self.subscribe(store, "batches", events=("batch.completed",))
        store.create_batch(Batch("b3", "ann", "2 documents", time.time(), 2))
        store.create(new_job("first", batch_id="b3", status=JobStatus.FAILED, error="empty"))
        early = store.batch_totals("b3")
        assert early is not None and not early.is_final and early.documents == 2 and early.progress == 50
        assert BatchView(early).message == "0 of 2 ready, 1 failed"
        assert store.list_deliveries(subscription_id="batches") == [], "no batch.completed before its last job"
        store.create(new_job("second", batch_id="b3"))
        store.finish("second", JobStatus.COMPLETED, "done")
        ended = store.batch_totals("b3")
        assert ended is not None and ended.is_final and ended.progress == 100
        (delivery,) = store.list_deliveries(subscription_id="batches")
        assert delivery.event == "batch.completed" and delivery.payload["message"] == "1 of 2 ready, 1 failed"

    def test_schema_setup_is_repeatable_and_close_lets_go(self, store: JobStore) -> None:
        store.create(new_job())
        store.initialize_schema()  # every process runs it at start
        store.close()
        assert store.get("job1") is not None, "a closed store opens again on next use"

    # -- webhooks -------------------------------------------------------------------------------------------------
    def subscribe(self, store: JobStore, sub_id: str, user: str = "ann", events: tuple[str, ...] = ()) -> None:
        events = events or ("job.completed", "job.failed", "job.canceled")
        subscription = WebhookSubscription(sub_id, user, f"https://{sub_id}.example/hook", events, time.time())
        store.add_subscription(subscription, f"whsec_{sub_id}")

    def test_every_way_a_job_ends_writes_its_deliveries_in_the_same_transaction(self, store: JobStore) -> None:
        self.subscribe(store, "all")
        self.subscribe(store, "done", events=("job.completed",))
        self.subscribe(store, "bob", user="bob")
        store.create(new_job("ok"))
        store.start("ok")
        assert store.list_deliveries() == [], "nothing is owed before a job ends"
        assert store.finish("ok", JobStatus.COMPLETED, "done")
        assert not store.finish("ok", JobStatus.FAILED, "again"), "an ended job ends once, and owes nothing more"
        store.create(new_job("stop"))
        store.cancel("stop")
        store.create(new_job("refused", status=JobStatus.FAILED, error="empty", meta={"callback_url": "https://cb/x"}))
        self.running_job(store, "lost", pages=10, chunk_pages=10)
        store.begin_step("lost", Stage.EXTRACTING)  # a step that began and stopped moving fails its job at the end
        store.set_stage("lost", Stage.MERGING, "merging")
        store.begin_step("lost", Stage.MERGING)
        store.recover_stale(time.time() + 1, max_attempts=1)
        owed = {(d.job_id, d.event, d.subscription_id or d.url) for d in store.list_deliveries()}
        assert owed == {
            ("ok", "job.completed", "all"),
            ("ok", "job.completed", "done"),
            ("stop", "job.canceled", "all"),
            ("refused", "job.failed", "all"),
            ("refused", "job.failed", "https://cb/x"),
            ("lost", "job.failed", "all"),
        }
        delivery = store.list_deliveries(job_id="ok", subscription_id="done")[0]
        assert delivery.id.startswith("msg_") and delivery.status is DeliveryStatus.PENDING
        assert delivery.payload["id"] == "ok" and delivery.payload["status"] == "completed"
        assert delivery.user == "ann" and delivery.url == "https://done.example/hook" and delivery.attempts == 0

    def test_a_batch_s_last_job_ending_owes_batch_completed_with_the_batch_as_the_api_answers_it(
        self, store: JobStore
    ) -> None:
        self.subscribe(store, "batches", events=("batch.completed",))
        self.subscribe(store, "bob", user="bob", events=("batch.completed",))
        store.create_batch(Batch("b1", "ann", "2 documents", time.time(), 2))
        for job_id in ("a", "b"):
            store.create(new_job(job_id, pages=4, batch_id="b1"))
        store.finish("a", JobStatus.COMPLETED, "done")
        assert [d.event for d in store.list_deliveries(subscription_id="batches")] == [], "one job is still open"
        store.finish("b", JobStatus.FAILED, "broken", error="broken")
        (delivery,) = store.list_deliveries(subscription_id="batches")
        assert delivery.event == "batch.completed" and delivery.job_id is None and delivery.user == "ann"
        assert delivery.payload["id"] == "b1" and delivery.payload["status"] == "failed"
        assert delivery.payload["counts"]["completed"] == 1 and delivery.payload["counts"]["failed"] == 1
        assert delivery.payload["message"] == "1 of 2 ready, 1 failed" and delivery.payload["progress"] == 100
        assert store.list_deliveries(subscription_id="bob") == [], "only the batch owner's subscriptions"

    def test_a_cached_job_s_delivery_carries_the_figures_it_copied_and_not_the_source_s_callback(
        self, store: JobStore
    ) -> None:
        self.subscribe(store, "all")
        store.create(new_job("src", meta={"callback_url": "https://src/cb"}))
        store.finish("src", JobStatus.COMPLETED, "done")
        store.create(new_job("copy", pages=0, status=JobStatus.COMPLETED, stage=Stage.COMPLETED))
        store.copy_outcome("copy", store.get("src"))  # type: ignore[arg-type]
        copy = store.get("copy")
        assert copy is not None and "callback_url" not in copy.meta
        (delivery,) = store.list_deliveries(job_id="copy")
        assert delivery.payload["pages"] == 45

    def test_deliveries_are_claimed_once_under_a_lease_and_each_attempt_is_recorded(self, store: JobStore) -> None:
        self.subscribe(store, "s1")
        (delivery,) = store.record_webhook_event("ann", "job.completed", {"id": "j"}, job_id="j")
        now = time.time()
        assert store.claim_deliveries(now - 60, limit=10, lease_s=30, claim="early") == [], "not due yet"
        (claimed,) = store.claim_deliveries(now + 1, limit=10, lease_s=30, claim="w1")
        assert claimed.id == delivery.id and claimed.claim == "w1"
        assert store.claim_deliveries(now + 2, limit=10, lease_s=30, claim="w2") == [], "leased to w1"
        retry = AttemptOutcome(500, "HTTP 500", "<b>oops</b>", 0.1, DeliveryStatus.PENDING, now + 5)
        assert not store.record_attempt(delivery.id, "w2", retry), "only the claim holder records"
        assert store.record_attempt(delivery.id, "w1", retry)
        assert store.get_subscription("s1").last_status == "500"  # type: ignore[union-attr]
        assert store.claim_deliveries(now + 2, limit=10, lease_s=30, claim="w2") == [], "not due until its retry"
        (again,) = store.claim_deliveries(now + 6, limit=10, lease_s=30, claim="w2")
        assert again.attempts == 1 and again.last_status_code == 500
        (stolen,) = store.claim_deliveries(now + 40, limit=10, lease_s=30, claim="w3")  # w2 died: its lease ran out
        assert not store.record_attempt(delivery.id, "w2", retry), "a claim taken over is fenced out"
        gave_up = AttemptOutcome(None, "timed out", "", 10.0, DeliveryStatus.FAILED, failing_reason="timed out x2")
        assert store.record_attempt(stolen.id, "w3", gave_up)
        done = store.get_delivery(delivery.id)
        assert done is not None and done.status is DeliveryStatus.FAILED and done.attempts == 2
        assert [(a.attempt, a.status_code, a.response) for a in store.list_attempts(delivery.id)] == [
            (1, 500, "<b>oops</b>"),
            (2, None, ""),
        ]
        failing = store.get_subscription("s1")
        assert failing is not None and failing.state is SubscriptionState.FAILING and failing.reason == "timed out x2"
        store.create(new_job("later"))
        store.finish("later", JobStatus.COMPLETED, "done")
        assert store.list_deliveries(job_id="later") == [], "a failing subscription gets no new events"
        (test,) = store.record_webhook_event("ann", "webhook.test", {}, subscription_id="s1")
        (claimed,) = store.claim_deliveries(time.time() + 1, limit=10, lease_s=30, claim="w4")
        ok = AttemptOutcome(204, "", "", 0.01, DeliveryStatus.DELIVERED)
        assert store.record_attempt(test.id, "w4", ok)
        assert store.get_subscription("s1").state is SubscriptionState.ACTIVE  # type: ignore[union-attr]
        assert store.get_delivery(test.id).delivered_at is not None  # type: ignore[union-attr]
        assert store.claim_deliveries(time.time() + 100, limit=10, lease_s=30, claim="w5") == [], "none left"

    def test_subscriptions_are_per_user_and_secrets_stay_server_side(self, store: JobStore) -> None:
        self.subscribe(store, "a1")
        self.subscribe(store, "b1", user="bob")
        assert [s.id for s in store.list_subscriptions("ann")] == ["a1"]
        assert {s.id for s in store.list_subscriptions()} == {"a1", "b1"}
        assert "whsec" not in repr(store.get_subscription("a1"))
        assert store.signing_secret("a1", "ann") == "whsec_a1"
        assert store.signing_secret(None, "ann") is None, "no callback secret until one is asked for"
        assert store.callback_secret("ann", "whsec_first") == "whsec_first"
        assert store.callback_secret("ann", "whsec_second") == "whsec_first", "made once"
        assert store.signing_secret(None, "ann") == "whsec_first"
        store.record_webhook_event("bob", "job.failed", {"id": "x"})
        assert not store.remove_subscription("b1", user="ann"), "only its user's"
        assert store.remove_subscription("b1", user="bob") and store.get_subscription("b1") is None
        assert store.list_deliveries(subscription_id="b1") == [], "its unsent deliveries go with it"
        assert store.signing_secret("b1", "bob") is None

    def test_answer_costs_add_up_per_user_and_day(self, store: JobStore) -> None:
        store.record_ask_usage("ann", "2026-03-01", 1000, 200, 0.006)
        store.record_ask_usage("ann", "2026-03-01", 500, 100, 0.003)
        store.record_ask_usage("ann", "2026-03-02", 10, 1, 0.0001)
        store.record_ask_usage("bob", "2026-03-01", 7, 3, 0.5)
        [day] = store.list_ask_usage("ann", "2026-03-01")
        assert (day.questions, day.input_tokens, day.output_tokens) == (2, 1500, 300)
        assert day.cost_usd == pytest.approx(0.009)
        assert [(u.user, u.day) for u in store.list_ask_usage()] == [
            ("ann", "2026-03-02"),
            ("ann", "2026-03-01"),
            ("bob", "2026-03-01"),
        ], "newest day first"
        assert [u.user for u in store.list_ask_usage(day="2026-03-01")] == ["ann", "bob"]
        assert store.list_ask_usage("carol") == []

    def test_a_canceled_batch_takes_no_job_that_has_not_ended(self, store: JobStore) -> None:
        store.create_batch(Batch("b9", "ann", "3 documents", time.time(), 3))
        store.create(new_job("before", batch_id="b9"))
        store.cancel_batch("b9", 123.0)
        store.cancel_batch("b9", 456.0)
        assert store.get_batch("b9").canceled_at == 123.0  # type: ignore[union-attr]
        with pytest.raises(BatchCanceled):
            store.create(new_job("after", batch_id="b9"))
        assert store.get("after") is None, "nothing recorded"
        store.create(new_job("ended", batch_id="b9", status=JobStatus.CANCELED))
        totals = store.batch_totals("b9")
        assert totals is not None and totals.batch.canceled_at == 123.0 and totals.total == 2

    def test_a_reservation_is_checked_and_made_atomically_and_settled_with_the_cost(self, store: JobStore) -> None:
        now = time.time()

        def held(rid: str, amount: float, expires: float = now + 600) -> AskReservation:
            return AskReservation(rid, "ann", "2026-03-01", amount, now, expires)

        store.record_ask_usage("ann", "2026-03-01", 10, 10, 0.25)
        seen: list[tuple[float, float, int]] = []
        store.reserve_ask(held("r1", 0.5), check=lambda *usage: seen.append(usage))
        store.reserve_ask(held("old", 9.0, expires=now - 1), check=lambda *usage: None)  # its process died
        store.reserve_ask(held("r2", 0.0), check=lambda *usage: seen.append(usage))
        assert seen == [(0.25, 0.0, 0), (0.25, 0.5, 1)], "the expired one counts for nothing"

        def refuse(*usage: object) -> None:
            raise AskBusy("no")

        with pytest.raises(AskBusy):
            store.reserve_ask(held("r3", 0.1), check=refuse)
        store.settle_ask(held("r1", 0.5), 100, 20, 0.125)
        store.settle_ask(held("r2", 0.0), 0, 0, 0.0)  # an extractive answer: nothing recorded
        [day] = store.list_ask_usage("ann", "2026-03-01")
        assert day.questions == 2 and day.cost_usd == pytest.approx(0.375)
        store.reserve_ask(held("r4", 0.1), check=lambda *usage: seen.append(usage))
        assert seen[-1] == (pytest.approx(0.375), 0.0, 0), "settled and refused ones hold nothing"

    def test_a_user_at_the_delivery_cap_is_skipped_for_others(self, store: JobStore) -> None:
        self.subscribe(store, "m", user="mallory", events=("job.completed",))
        self.subscribe(store, "a", user="ann", events=("job.completed",))
        for i in range(5):
            store.record_webhook_event("mallory", "job.completed", {"i": i})
        (ann,) = store.record_webhook_event("ann", "job.completed", {"i": "ann"})
        first = store.claim_deliveries(time.time() + 1, limit=2, lease_s=60, claim="w1", per_user=2)
        assert [d.user for d in first] == ["mallory", "mallory"]
        second = store.claim_deliveries(time.time() + 1, limit=2, lease_s=60, claim="w2", per_user=2)
        assert [d.id for d in second] == [ann.id], "mallory holds two already: ann's goes ahead"
        assert store.claim_deliveries(time.time() + 1, limit=5, lease_s=60, claim="w3", per_user=2) == []
        ok = AttemptOutcome(204, "", "", 0.01, DeliveryStatus.DELIVERED)
        assert store.record_attempt(first[0].id, "w1", ok)
        (next_one,) = store.claim_deliveries(time.time() + 1, limit=5, lease_s=60, claim="w4", per_user=2)
        assert next_one.user == "mallory", "a place freed"

    def test_a_user_s_backlog_is_capped_and_subscriptions_are_checked_in_their_transaction(
        self, store: JobStore
    ) -> None:
        store.max_pending_deliveries = 3
        self.subscribe(store, "s")
        for i in range(5):
            store.record_webhook_event("ann", "job.completed", {"i": i})
        deliveries = store.list_deliveries(subscription_id="s")
        assert sorted(d.status.value for d in deliveries) == ["failed", "failed", "pending", "pending", "pending"]
        assert all(d.last_error.startswith("Not sent: 3 deliveries") for d in deliveries if d.status.value == "failed")
        seen: list[list[str]] = []

        def refuse(existing: list[WebhookSubscription]) -> None:
            seen.append([s.id for s in existing])
            raise WebhookRefused("no")

        late = WebhookSubscription("late", "ann", "https://late.example/hook", ("job.failed",), time.time())
        with pytest.raises(WebhookRefused):
            store.add_subscription(late, "whsec_late", check=refuse)
        assert seen == [["s"]] and store.get_subscription("late") is None

    def test_deliveries_claimed_by_racing_threads_go_to_one_each(self, store: JobStore) -> None:
        self.subscribe(store, "s")
        for i in range(30):
            store.record_webhook_event("ann", "job.completed", {"i": i})
        got: list[str] = []
        lock = threading.Lock()

        def claimer(name: str) -> None:
            while batch := store.claim_deliveries(time.time() + 1, limit=3, lease_s=60, claim=name):
                with lock:
                    got.extend(d.id for d in batch)

        threads = [threading.Thread(target=claimer, args=(f"t{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(got) == 30 and len(set(got)) == 30


def test_the_contract_covers_the_whole_interface() -> None:
    """Every public method of the store interface is called by at least one contract test."""
    methods = {name for name, member in inspect.getmembers(JobStore, inspect.isfunction) if not name.startswith("_")}
    source = inspect.getsource(StoreContract)
    untested = sorted(name for name in methods if not re.search(rf"\bstore\.{name}\(", source))
    assert untested == []
    assert len(methods) >= 30
