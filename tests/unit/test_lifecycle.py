"""Stage lists come from the lifecycle: the stepper, recovery's queries and the messages read the same groups."""

from __future__ import annotations

from pipeline.core import messages
from pipeline.core.lifecycle import FINISHING_STAGES, PREPARATION_STAGES, STEPS_COUNTED_AFRESH, Stage, stages_of
from pipeline.store.sql.base import sql_list


def test_only_an_indexed_job_passes_through_embedding_and_indexing() -> None:
    plain = ("queued", "preparing", "splitting", "extracting", "merging", "completed")
    assert [stage.value for stage in stages_of(indexed=False)] == list(plain)
    assert [stage.value for stage in stages_of(indexed=True)] == [*plain[:-1], "embedding", "indexing", "completed"]


def test_the_whole_job_steps_are_grouped_before_and_after_the_chunks() -> None:
    assert sql_list(PREPARATION_STAGES) == "('preparing', 'splitting')"
    assert sql_list(FINISHING_STAGES) == "('merging', 'embedding', 'indexing')"
    assert STEPS_COUNTED_AFRESH == (Stage.EXTRACTING, Stage.MERGING, Stage.EMBEDDING, Stage.INDEXING)


def test_every_whole_job_step_has_words_for_a_step_that_kept_dying() -> None:
    for stage in (*PREPARATION_STAGES, *FINISHING_STAGES):
        assert messages.STEP_DOING[stage.value] in messages.step_kept_dying(stage.value, 3)
    assert [messages.stage_label(stage) for stage in stages_of(indexed=False)] == [
        "Queued",
        "Preparing",
        "Splitting",
        "Extracting",
        "Merging",
        "Done",
    ]
