"""The service's Prometheus metrics, one registry per app (so two apps in one
process, as in the tests, never mix their counts).

Requests are labelled by route *template* (``/v1/documents/{doc_id}``), never by
raw path, so a scanner cannot blow up the number of series; index size is read
from the live index at scrape time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from silkqa.service.answering.types import Answer
from silkqa.service.conversations.types import FeedbackIn
from silkqa.service.retrieval.types import Snapshot

_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _IndexCollector:
    """Index size and the running abstention rate, computed when scraped."""

    def __init__(self, snapshot: Callable[[], Snapshot | None], abstention: Callable[[], float]):
        self.snapshot = snapshot
        self.abstention = abstention

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot()
        if snapshot is not None:
            m = snapshot.index.manifest
            sizes = {"documents": m.document_count, "chunks": m.chunk_count, "dense_units": m.unit_count}
            for name, value in sizes.items():
                yield GaugeMetricFamily(
                    f"silkqa_index_{name}", f"{name.replace('_', ' ').capitalize()} in the live index.", value
                )
        yield GaugeMetricFamily(
            "silkqa_abstention_ratio", "Share of answers since start-up that abstained (0 before the first).", self.abstention()
        )


class Metrics:
    def __init__(self, snapshot: Callable[[], Snapshot | None]):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "silkqa_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "silkqa_http_request_duration_seconds",
            "Time from request to the end of the response, by method, route template and status.",
            ["method", "route", "status"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("silkqa_http_requests_in_flight", "HTTP requests in progress.", registry=r)
        self.stages = Histogram(
            "silkqa_stage_duration_seconds",
            "Time per answering stage: rewrite, embed, retrieve (= bm25 + dense + fusion), answer, generate.",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.answers = Counter(
            "silkqa_answers", "Answers by question language and abstention.", ["lang", "abstained"], registry=r
        )
        # Not labelled by key: /metrics is public, and key names are the operator's
        # (the access log names the key of each refused request).
        self.rate_limited = Counter("silkqa_rate_limited", "Requests refused by the per-key rate limit.", registry=r)
        self.queue_wait = Histogram(
            "silkqa_worker_queue_seconds",
            "Time a CPU-bound request waited for a worker slot.",
            buckets=_STAGE_BUCKETS + (5.0, 10.0),
            registry=r,
        )
        self.feedback = Counter(
            "silkqa_feedback",
            "Feedback given on answers (a change counts again), by rating (up, down, none) and whether it flagged citations.",
            ["rating", "flagged"],
            registry=r,
        )
        self.flagged_citations = Counter(
            "silkqa_feedback_wrong_citations", "Citations flagged as not supporting their sentence.", registry=r
        )
        self._lock = threading.Lock()  # answers are reported from worker threads
        self._answered = 0
        self._abstained = 0
        r.register(_IndexCollector(snapshot, self._abstention_ratio))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def observe_answer(self, answer: Answer) -> None:
        for stage, ms in answer.timings_ms.items():
            self.stages.labels(stage).observe(ms / 1000)
        self.answers.labels(answer.lang, str(answer.abstained).lower()).inc()
        with self._lock:
            self._answered += 1
            self._abstained += answer.abstained

    def observe_feedback(self, given: FeedbackIn) -> None:
        self.feedback.labels(given.rating or "none", str(bool(given.wrong_citations)).lower()).inc()
        self.flagged_citations.inc(len(given.wrong_citations))

    def observe_rate_limited(self) -> None:
        self.rate_limited.inc()

    def observe_queue_wait(self, seconds: float) -> None:
        self.queue_wait.observe(seconds)

    def _abstention_ratio(self) -> float:
        with self._lock:
            return self._abstained / self._answered if self._answered else 0.0

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
