"""Infrastructure faults injected mid-batch on PostgreSQL + SeaweedFS with two worker processes and a real
``paperline serve`` (``tests/chaos/rig.py``): every job still completes with the text of a fault-free run, no chunk
is finished twice, and a client polling the API meanwhile gets only 2xx, or 503 with ``Retry-After``, quickly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.rig import CLIENT_BOUND_S, Outcome, Rig

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    rig = Rig(tmp_path_factory.mktemp("chaos"))
    try:
        yield rig.start()
    finally:
        rig.stop()


def assert_survived(outcome: Outcome, rig: Rig) -> None:
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in sorted(rig.root.glob("*.log")))
    assert outcome.completed == outcome.jobs, (outcome, logs)
    assert not outcome.wrong_text, outcome.wrong_text
    assert not outcome.done_twice, f"chunks finished twice: {outcome.done_twice}"
    assert not outcome.bad_answers, f"answers other than 2xx or a quick 503 with Retry-After: {outcome.bad_answers}"
    assert outcome.slowest_answer_s <= CLIENT_BOUND_S
    assert not outcome.health.get("no_workers"), f"health said no_workers with two workers alive: {outcome.health}"


def test_the_object_store_down_20_s_is_waited_out(rig: Rig) -> None:
    outcome = rig.run("object_store_down")
    assert_survived(outcome, rig)
    assert outcome.health.get("degraded"), "health said the object store was unreachable"
    assert outcome.events.get("waiting"), "the jobs' events say they waited"
    assert any("Waiting for the object store" in message for message in outcome.waits), outcome.waits
    assert not outcome.events.get("chunk_recovered"), "no chunk was taken from a live worker for being slow"


def test_postgresql_restarted_after_30_s_down_loses_nothing(rig: Rig) -> None:
    outcome = rig.run("database_down")
    assert_survived(outcome, rig)
    assert outcome.answers.get("503"), "the client was told the store was unreachable"
    assert not outcome.events.get("chunk_recovered"), "live workers kept their chunks when the database came back"


def test_a_frozen_worker_is_redone_elsewhere_and_overwrites_nothing(rig: Rig) -> None:
    outcome = rig.run("worker_frozen")
    assert_survived(outcome, rig)
    assert outcome.events.get("chunk_recovered"), "the frozen worker's chunk was taken back"


def test_a_full_disk_on_one_worker_is_waited_out(rig: Rig) -> None:
    outcome = rig.run("disk_full")
    assert_survived(outcome, rig)
    assert any("worker's disk" in message for message in outcome.waits), outcome.waits
