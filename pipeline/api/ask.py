"""``POST /ask``: a question answered from the caller's passages, streamed as Server-Sent Events.

The body is JSON: ``question``, and optionally ``jobs`` (ids to answer from) and ``no_model`` (an extractive answer).
What can be refused is refused before the stream opens, as a problem: a question empty or too long (400), retrieval
not installed (503), the caller's daily budget spent (429, ``PAPERLINE_ASK_BUDGET_USD``), too many of the caller's
answers under way (429 with ``Retry-After``, ``PAPERLINE_ASK_CONCURRENCY_PER_USER``). Control characters in the
question are spaces, as in a search query; a lone surrogate is a 400.

Messages: ``event: text`` (``{"text": ...}``, a piece of the answer as soon as the model writes it), then
``event: citation`` (each checked citation once: job, file, pages, passage, characters), ``event: note`` (a
citation dropped and why, or why the answer is extractive), and ``event: end`` (the whole answer, with how it was
made, its tokens and cost). A failure once the stream is open ends it with ``event: error`` whose data is a problem.
The answer is made on a thread of its own, so a slow model never holds one of the server's shared worker threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

from tornado.iostream import StreamClosedError

from pipeline.api.handlers import ApiHandler
from pipeline.api.problems import Problem, problem_for
from pipeline.api.sse import sse
from pipeline.profiles.retrieval.embedding import unavailable_reason as retrieval_unavailable
from pipeline.service.ask import AskEvent, check_question

log = logging.getLogger("paperline.api.ask")
MAX_BODY_BYTES = 64 * 1024
_DONE = object()


def event_message(event: AskEvent) -> str:
    """One SSE message for one step of the answer."""
    if event.kind == "text":
        return sse("text", {"text": event.text})
    if event.kind == "citation" and event.citation is not None:
        return sse("citation", event.citation.to_dict())
    if event.kind == "note":
        return sse("note", {"note": event.text})
    assert event.answer is not None
    return sse("end", event.answer.to_dict())


class AskHandler(ApiHandler):
    """The stream of one answer (see the module's docstring)."""

    async def post(self) -> None:
        question, jobs, no_model = self._body()
        reason = retrieval_unavailable()
        if reason:
            raise Problem(503, reason)
        events: Iterator[AskEvent] = await self.run(
            self.app.ask_stream, question, jobs=jobs, user=self.user, no_model=no_model
        )
        loop, queue = asyncio.get_running_loop(), asyncio.Queue[Any]()
        gone = threading.Event()

        def pump() -> None:
            try:
                for event in events:
                    loop.call_soon_threadsafe(queue.put_nowait, event)
                    if gone.is_set():
                        break
            except Exception as exc:  # told to the client as a problem (or logged when it is a server fault)
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()  # a client that went away ends the model's stream too
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")
        threading.Thread(target=pump, name="paperline-ask", daemon=True).start()
        try:
            while (item := await queue.get()) is not _DONE:
                if isinstance(item, BaseException):
                    problem = problem_for(item)
                    if problem is None:
                        log.error("API POST /ask failed", exc_info=item)
                        problem = Problem(500)
                    self.write(sse("error", problem.to_dict()))
                else:
                    self.write(event_message(item))
                await self.flush()
        except StreamClosedError:
            gone.set()

    def _body(self) -> tuple[str, list[str] | None, bool]:
        if len(self.request.body) > MAX_BODY_BYTES:
            raise Problem(413, f"The request body is over {MAX_BODY_BYTES // 1024} kB.")
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise Problem(400, 'The body must be JSON: {"question": "..."}') from None
        if not isinstance(body, dict) or not isinstance(body.get("question"), str):
            raise Problem(400, "The body must be a JSON object with a question (text).")
        jobs = body.get("jobs")
        if jobs is not None and (not isinstance(jobs, list) or not all(isinstance(j, str) for j in jobs)):
            raise Problem(400, "jobs must be a list of job ids.")
        no_model = body.get("no_model", False)
        if not isinstance(no_model, bool):
            raise Problem(400, "no_model must be true or false.")
        return check_question(body["question"]), jobs, no_model  # cleaned as a search query is (else 400)
