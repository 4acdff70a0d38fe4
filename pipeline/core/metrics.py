"""Prometheus counters of what a process does: chunk durations by engine, Claude requests in flight, tokens, cost
(a worker's); SQL statements run on the job store (every process's: the stores import this module when they open);
reads of jobs' events by the API's event streams (a server's).

In a worker these live in prometheus_client's multiprocess mode: ``paperline worker --metrics-port`` sets
``PROMETHEUS_MULTIPROC_DIR`` before anything imports this module (before the CLI opens the store; the steps and
engines import it late, on first use), and its HTTP server sums every process of the consumer
(``pipeline.worker.metrics``). A dashboard server's ``/metrics`` reports its own process's.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

CHUNK_SECONDS = Histogram(
    "paperline_chunk_seconds",
    "Seconds a chunk took, from claim to its end, by engine and outcome.",
    ["engine", "status"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
LLM_IN_FLIGHT = Gauge(
    "paperline_llm_requests_in_flight", "Claude requests being answered now.", multiprocess_mode="livesum"
)
LLM_TOKENS = Counter("paperline_llm_tokens", "Tokens sent to and received from Claude.", ["direction"])
LLM_COST = Counter("paperline_llm_cost_usd", "Estimated cost of Claude requests, in US dollars.")
#: what readers such as the dashboard's feed cost the database (exposed as ``paperline_store_statements_total``)
STORE_STATEMENTS = Counter("paperline_store_statements", "SQL statements this process has run on the job store.")
#: the API's event streams read a changed job's events once per tick, however many clients watch it
API_STREAM_READS = Counter(
    "paperline_api_stream_reads", "Reads of jobs' events by the API's event streams, all of them together."
)


def observe_chunk(engine: str, status: str, started_at: float | None) -> None:
    if started_at is not None:
        CHUNK_SECONDS.labels(engine=engine, status=status).observe(max(0.0, time.time() - started_at))


def observe_usage(input_tokens: int, output_tokens: int, cost_usd: float) -> None:
    LLM_TOKENS.labels(direction="input").inc(input_tokens)
    LLM_TOKENS.labels(direction="output").inc(output_tokens)
    LLM_COST.inc(cost_usd)
