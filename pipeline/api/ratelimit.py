"""How many API requests one user and one client address may make: a token bucket each, in this server process.

Each bucket holds up to ``PAPERLINE_API_RATE_PER_MINUTE`` requests and refills at that rate, so a client may
burst up to a minute's worth and then goes at the rate; each file of an upload costs one more. Buckets live in
memory (one server process; ``--procs N`` gives each process its own), and the full ones are forgotten so the
table stays small whatever the number of clients. Loopback addresses have no address bucket: behind a reverse
proxy on the same host every client would share one (the proxy's user buckets still apply).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_BUCKETS = 10_000  # beyond this, full (idle) buckets are dropped before a new one is made


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key (``user:NAME``, ``address:IP``), refilled continuously at ``per_minute`` a minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend ``cost`` from ``key``'s bucket: 0 if allowed, else the seconds until it would be (nothing spent)."""
        if self.per_minute <= 0:
            return 0.0
        capacity, rate = float(self.per_minute), self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._forget_full(now, capacity, rate)
                bucket = self._buckets[key] = Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (min(cost, capacity) - bucket.tokens) / rate

    def _forget_full(self, now: float, capacity: float, rate: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * rate >= capacity]
        for key in full or list(self._buckets)[: MAX_BUCKETS // 10]:  # none idle: the oldest tenth
            del self._buckets[key]
