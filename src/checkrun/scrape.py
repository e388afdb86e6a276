"""The Prometheus scrape at CHECKRUN_METRICS_PATH (default `/metrics`): the process's metrics
(`kit.metrics`; every worker's in multiprocess mode) and the outboxes' rows, read from the
database at scrape time, so the same in any worker."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from checkrun.kit.coalesce import Coalesced
from checkrun.kit.metrics import multiprocess_mode
from checkrun.mail.models import MailMessage
from checkrun.webhooks.models import Delivery

log = logging.getLogger(__name__)

OUTBOXES: dict[str, Any] = {"webhook": Delivery, "mail": MailMessage}
OUTBOX_STATUSES = ("pending", "dead")


async def _outbox_rows(db: AsyncSession) -> list[Metric]:
    rows = GaugeMetricFamily(
        "checkrun_outbox_rows",
        "Rows of the webhook and email outboxes waiting to be sent (pending) or given up (dead)",
        labels=["outbox", "status"],
    )
    retrying = GaugeMetricFamily(
        "checkrun_outbox_retrying_rows",
        "Pending rows that failed at least once",
        labels=["outbox"],
    )
    for name, model in OUTBOXES.items():
        counts = await db.execute(
            select(model.status, model.attempts > 0, func.count())
            .where(model.status.in_(OUTBOX_STATUSES))
            .group_by(model.status, model.attempts > 0)
        )
        found = {status: 0 for status in OUTBOX_STATUSES}
        failed_before = 0
        for status, tried, count in counts:
            found[status] += count
            failed_before += count if status == "pending" and tried else 0
        for status, count in found.items():
            rows.add_metric([name, status], count)
        retrying.add_metric([name], failed_before)
    return [rows, retrying]


class _Families:
    """A collector of metric families gathered before the scrape."""

    def __init__(self, sources: Iterable[Collector], extra: list[Metric]) -> None:
        self.sources = list(sources)
        self.extra = extra

    def collect(self) -> Iterable[Metric]:
        for source in self.sources:
            yield from source.collect()
        yield from self.extra


class MetricsEndpoint:
    """The scrape: this process's metrics (or every worker's, in multiprocess mode) and the
    outboxes' rows read from the database, at most once a second however often it is asked."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        token: str | None,
        timeout: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.token = token
        self.outboxes: Coalesced[list[Metric]] = Coalesced(self._read_outboxes, 1.0, timeout)

    async def _read_outboxes(self) -> list[Metric]:
        async with self.sessionmaker() as db:
            return await _outbox_rows(db)

    def _allowed(self, request: Request) -> bool:
        if self.token is None:
            return True
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {self.token}".encode())

    async def scrape(self, request: Request) -> Response:
        if not self._allowed(request):
            return Response(
                "a bearer token is required\n",
                401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )
        try:
            extra = await self.outboxes.get()
        except Exception as exc:  # noqa: BLE001 - the rest of the metrics still answer
            log.warning("metrics: could not read the outboxes (%s)", type(exc).__name__)
            extra = []
        sources: list[Collector] = [REGISTRY]
        if multiprocess_mode():
            sources = [multiprocess.MultiProcessCollector(None)]  # type: ignore[no-untyped-call]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families(sources, extra))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
