"""Prometheus metrics of one running app (its own registry, so tests can run several).

Label values are bounded: an event name is used only when the bot knows the
event, otherwise "other", so an attacker cannot grow the series without end
by sending made-up X-GitHub-Event headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.webhooks.payloads import EVENT_MODELS

KNOWN_EVENTS = frozenset(EVENT_MODELS)


def event_label(event: str | None, extra: frozenset[str] = frozenset()) -> str:
    if event and (event in KNOWN_EVENTS or event in extra):
        return event
    return "other" if event else "none"


class _QueueDepth(Collector):
    """Reads the queue's counts at scrape time, so the figure is never stale."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "mlbot_queue_jobs", "Jobs in the durable queue, by state.", labels=["state"]
        )
        try:
            counts = self._counts()
        except Exception:
            counts = {}
        for state, value in counts.items():
            family.add_metric([state], value)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "mlbot_webhook_deliveries",
            "Webhook deliveries received, by event and outcome.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "mlbot_jobs",
            "Job runs finished, by event and outcome (done, retry, dead).",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "mlbot_job_duration_seconds",
            "Time a handler run took, by event.",
            ["event"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.github_requests = Counter(
            "mlbot_github_requests",
            "Requests sent to the GitHub API by handlers, by event.",
            ["event"],
            registry=self.registry,
        )
        self.github_errors = Counter(
            "mlbot_github_errors",
            "Job runs that ended on a GitHub or network error, by kind (transient, permanent).",
            ["kind"],
            registry=self.registry,
        )

        self.deliveries_recovered = Counter(
            "mlbot_deliveries_recovered",
            "Failed deliveries found in the App's delivery log, by outcome (redelivered).",
            ["outcome"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "mlbot_alerts",
            "Alerts received on POST /alerts, by outcome (queued, duplicate, unlabelled,"
            " unauthorized, bad_request, unavailable).",
            ["outcome"],
            registry=self.registry,
        )

    def watch_queue(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_QueueDepth(counts))
