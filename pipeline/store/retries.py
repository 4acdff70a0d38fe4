"""A worker's store waits out a restart of its database: every call of the store's contract is one transaction that
either committed or rolled back, so calling it again after a transient error is what a client would do anyway.

``retried_per_call`` puts that retry on each contract method of a backend class, at the transaction boundary and
not through a proxy: the store keeps its type, and ``retry_s`` (0 by default: the server fails fast and answers
503) is set by whoever opens it for a worker (``PAPERLINE_TRANSIENT_RETRY_S``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pipeline.core import transient

StoreClass = TypeVar("StoreClass", bound=type)

#: Contract methods that are not one short transaction: waiting for a change is already a wait; the rest hand out
#: connections or transactions to their caller.
NOT_RETRIED = frozenset({"wait_for_change", "close", "transaction", "beat_transaction", "connection"})


def _retried(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return transient.retrying(
            lambda: method(self, *args, **kwargs), budget_s=self.retry_s, service=transient.JOB_STORE, what=name
        )

    return call


def retried_per_call(cls: StoreClass) -> StoreClass:
    """``cls`` with each method of the ``JobStore`` contract retried for ``self.retry_s`` seconds after a transient
    error (see ``pipeline.core.transient``; a call made inside another's retry does not retry again)."""
    from pipeline.store.interface import JobStore

    for name in sorted(JobStore.__abstractmethods__ - NOT_RETRIED):
        method = getattr(cls, name, None)
        if callable(method) and not getattr(method, "__isabstractmethod__", False):
            setattr(cls, name, _retried(name, method))
    return cls
