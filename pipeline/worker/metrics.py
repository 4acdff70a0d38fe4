"""Prometheus metrics: what a worker host and a dashboard server expose on ``/metrics``.

Worker processes count what they do (``pipeline.core.metrics``: chunk durations, Claude requests, tokens, cost) in
prometheus_client's multiprocess mode: ``paperline worker --metrics-port`` sets ``PROMETHEUS_MULTIPROC_DIR``
before anything imports the client, and its HTTP server sums every process of the consumer. What the store knows
(jobs by status, queue depth, live workers) is read at scrape time, so every host reports the same truth.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pipeline.store import JobStore


class StoreCollector(Collector):
    """Jobs by status, the queue's depth and live workers, read from the store when scraped."""

    def __init__(self, store: JobStore, *, worker_max_age_s: float = 10.0) -> None:
        self.store, self.worker_max_age_s = store, worker_max_age_s

    def collect(self) -> Iterator[Metric]:
        jobs, chunks = self.store.status_counts()
        by_status = GaugeMetricFamily("paperline_jobs", "Jobs in the store by status.", labels=["status"])
        for status, count in sorted(jobs.items()):
            by_status.add_metric([status], count)
        yield by_status
        chunk_family = GaugeMetricFamily("paperline_chunks", "Chunks in the store by status.", labels=["status"])
        for status, count in sorted(chunks.items()):
            chunk_family.add_metric([status], count)
        yield chunk_family
        yield GaugeMetricFamily(
            "paperline_queue_depth",
            "Work waiting for a worker: queued jobs and queued chunks.",
            value=jobs.get("queued", 0) + chunks.get("queued", 0),
        )
        live = self.store.list_workers(max_age_s=self.worker_max_age_s)
        yield GaugeMetricFamily(
            "paperline_workers_alive", "Worker processes alive (a recent heartbeat).", value=len(live)
        )


def store_registry(store: JobStore) -> CollectorRegistry:
    """A registry with the store's view only (the dashboard adds its feed's)."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    return registry
