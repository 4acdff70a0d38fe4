"""Error codes: each error class has its own stable code, jobs store the code, and the HTTP status of a refusal
comes from the code through one table, for new jobs and for jobs an older Paperline stored with class names."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import pipeline
from pipeline.api.problems import STATUS_BY_CODE, problem_for, refusal_status, status_for
from pipeline.core.errors import (
    CODES_OF_STORED_CLASS_NAMES,
    ERRORS,
    BatchCanceled,
    DocumentRejected,
    InvalidRequest,
    LimitReached,
    PaperlineError,
    ReaderFailed,
    TooManyPages,
    WrongState,
    error_of_code,
)
from pipeline.service.paperline import Paperline

#: the statuses refusals stored as class names answered before codes existed (pipeline/api/problems.py then)
STATUS_OF_OLD_STORED_NAMES = {
    "DocumentRejected": 422,
    "UnsupportedType": 415,
    "EmptyDocument": 422,
    "DocumentTooLarge": 413,
    "PasswordProtected": 422,
    "UnreadableDocument": 422,
    "ImageTooLarge": 413,
    "TooManyPages": 413,
    "ReaderFailed": 422,
    "LimitReached": 429,
}


def every_error_class() -> list[type[PaperlineError]]:
    """Every PaperlineError subclass in pipeline/ (each module imported, so those defined outside core count)."""
    scripts = ("pipeline.store.migrations.env", "pipeline.store.migrations.versions")  # alembic runs them, in a step
    for module in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
        if not module.name.endswith("__main__") and not module.name.startswith(scripts):
            importlib.import_module(module.name)
    found, todo = [], [PaperlineError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return [kind for kind in found if kind.__module__.startswith("pipeline.")]


def test_every_error_class_has_its_own_code_in_the_registry() -> None:
    kinds = every_error_class()
    assert len(kinds) >= 20
    for kind in kinds:
        assert ERRORS[kind.code] is kind, f"{kind.__name__} does not own its code {kind.code!r}"
    assert len({kind.code for kind in kinds}) == len(kinds)


def test_an_error_class_without_a_code_or_with_a_taken_one_is_refused() -> None:
    with pytest.raises(TypeError):
        type("NoCode", (PaperlineError,), {})
    with pytest.raises(TypeError, match="already TooManyPages's"):

        class Again(DocumentRejected, code="too_many_pages"):
            pass

    with pytest.raises(TypeError, match="lower-case"):

        class Shouting(DocumentRejected, code="Shouting"):
            pass

    assert ERRORS["too_many_pages"] is TooManyPages


def test_every_status_in_the_table_is_keyed_by_a_registered_code() -> None:
    assert set(STATUS_BY_CODE) <= set(ERRORS)


@pytest.mark.parametrize(("old_name", "status"), sorted(STATUS_OF_OLD_STORED_NAMES.items()))
def test_a_refusal_stored_with_its_class_name_answers_as_its_code_does(old_name: str, status: int) -> None:
    code = CODES_OF_STORED_CLASS_NAMES[old_name]
    assert refusal_status(old_name) == refusal_status(code) == status
    assert error_of_code(old_name) is error_of_code(code)


def test_every_old_stored_name_maps_to_a_refusal_code() -> None:
    assert set(CODES_OF_STORED_CLASS_NAMES) == set(STATUS_OF_OLD_STORED_NAMES)
    for code in CODES_OF_STORED_CLASS_NAMES.values():
        kind = error_of_code(code)
        assert kind is not None and issubclass(kind, DocumentRejected)


def test_an_unknown_or_non_refusal_code_is_an_unprocessable_document() -> None:
    assert refusal_status("") == refusal_status("no_such_code") == 422
    assert refusal_status("job_not_found") == 422, "only a refusal's status is taken from a stored code"


def test_the_nearest_listed_code_gives_the_status() -> None:
    assert status_for(LimitReached) == 429, "a LimitReached is a DocumentRejected, but has its own status"
    assert status_for(ReaderFailed) == 422, "ReaderFailed has no status of its own: its base's"
    assert status_for(ValueError) is None and status_for(PaperlineError) is None


def test_a_bad_request_and_a_wrong_state_are_two_answers() -> None:
    """400: the request is wrong whatever the state (an unknown profile); 409: it does not fit the state of what it
    names right now (cancel an ended job, join a batch canceled meanwhile)."""
    assert status_for(InvalidRequest) == 400
    assert status_for(WrongState) == 409 and status_for(BatchCanceled) == 409


def test_a_problem_carries_its_error_code() -> None:
    problem = problem_for(TooManyPages("Too many pages."))
    assert problem is not None and problem.status == 413
    assert problem.to_dict() == {
        "type": "about:blank",
        "title": "Request Entity Too Large",
        "status": 413,
        "detail": "Too many pages.",
        "code": "too_many_pages",
    }


def test_a_refused_upload_records_its_error_code(app: Paperline) -> None:
    job = app.submit(b"this is not a pdf at all", "fake.pdf")
    assert job.meta["refusal"] == "unsupported_type"
    assert refusal_status(job.meta["refusal"]) == 415
