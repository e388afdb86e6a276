"""Delivers the webhook outbox in the background, with retries and backoff.

Each API process runs one worker in its event loop. A worker leases due rows (so that several
processes never send the same delivery at once; a lease left by a crashed process expires and
the row is sent again), POSTs them concurrently with a total timeout, and records the outcome:
delivered, pending again after an exponential backoff with jitter, or dead after the last
attempt. No database transaction is open while a request is in flight. The loop and the
lease SQL are `kit.leases`', shared with the email worker."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from checkrun import __version__
from checkrun.config import Settings
from checkrun.kit import leases
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.kit.leases import LeaseWorker, clip
from checkrun.kit.metrics import WEBHOOK_ATTEMPTS
from checkrun.kit.wakeup import WEBHOOKS
from checkrun.webhooks.models import DEAD, DELIVERED, PENDING, Delivery
from checkrun.webhooks.repository import WebhooksRepository
from checkrun.webhooks.signing import is_private_address, new_secret, signature

# The attempts counter's outcome for each status an attempt leaves its row in.
OUTCOMES = {DELIVERED: "delivered", PENDING: "retry", DEAD: "dead"}

log = logging.getLogger("checkrun.webhooks")
RESPONSE_SNIPPET_BYTES = 512


@dataclass(frozen=True)
class Outcome:
    status: int | None = None
    error: str | None = None
    # Retrying can't help (the address is refused by configuration).
    final: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Blocked(Exception):
    pass


def backoff(settings: Settings, attempts: int) -> float:
    return leases.backoff(
        settings.webhook_backoff_seconds, settings.webhook_backoff_max_seconds, attempts
    )


class DeliveryWorker(LeaseWorker[tuple[Delivery, str]]):
    label = "webhook"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        super().__init__(sessionmaker, settings, WEBHOOKS)
        self._client: httpx.AsyncClient | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.webhook_timeout_seconds * 2 + 30)

    @property
    def poll_seconds(self) -> float:
        return self.settings.webhook_poll_seconds

    @property
    def batch_size(self) -> int:
        return self.settings.webhook_batch_size

    @property
    def concurrency(self) -> int:
        return self.settings.webhook_concurrency

    async def opened(self) -> None:
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=self.settings.webhook_timeout_seconds,
            headers={"User-Agent": f"checkrun-webhooks/{__version__}"},
        )

    async def closed(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def claim(self, limit: int) -> list[tuple[Delivery, str]]:
        moment = now()
        token = new_id()
        async with self.sessionmaker() as db:
            repo = WebhooksRepository(db)
            ids = await repo.due_ids(moment, limit)
            rows = await repo.claim(ids, moment, token, moment + self.lease)
            secrets = {org: await self._secret(repo, org) for org in {r.org_id for r in rows}}
            await db.commit()
        return [(row, secrets[row.org_id]) for row in rows]

    async def _secret(self, repo: WebhooksRepository, org_id: str) -> str:
        if self.settings.webhook_secret:
            return self.settings.webhook_secret
        return await repo.secret(org_id) or await repo.keep_secret(org_id, new_secret())

    # -- one delivery -------------------------------------------------------------------------

    async def process(self, item: tuple[Delivery, str]) -> None:
        delivery, secret = item
        attempt = delivery.attempts + 1
        outcome = await self._post(delivery, secret, attempt)
        values: dict[str, Any] = {
            "attempts": attempt,
            "last_status": outcome.status,
            "last_error": outcome.error,
            "last_attempt_at": now(),
        }
        if outcome.ok:
            values.update(status=DELIVERED, delivered_at=now())
        elif outcome.final or attempt >= self.settings.webhook_max_attempts:
            values.update(status=DEAD)
        else:
            values.update(
                status=PENDING,
                next_attempt_at=now() + timedelta(seconds=backoff(self.settings, attempt)),
            )
        WEBHOOK_ATTEMPTS.labels(OUTCOMES[values["status"]]).inc()
        try:
            async with self.sessionmaker() as db:
                await WebhooksRepository(db).record_attempt(
                    delivery.id, delivery.lease_token or "", values
                )
                await db.commit()
        except Exception:  # noqa: BLE001 - the lease expires and the row is tried again
            log.exception("webhook outbox: recording delivery %s failed", delivery.id)

    def headers(self, delivery: Delivery, secret: str, attempt: int, body: bytes) -> dict[str, str]:
        stamp = int(time.time())
        return {
            "Content-Type": "application/json",
            "X-Tallyfy-orgID": delivery.org_id,
            "X-Checkrun-Event": delivery.event,
            "X-Checkrun-Delivery": delivery.id,
            "X-Checkrun-Attempt": str(attempt),
            "X-Checkrun-Timestamp": str(stamp),
            "X-Checkrun-Signature": signature(secret, stamp, body),
        }

    async def _post(self, delivery: Delivery, secret: str, attempt: int) -> Outcome:
        assert self._client is not None
        body = delivery.body.encode()
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                await self._check_address(delivery.url)
                async with self._client.stream(
                    "POST",
                    delivery.url,
                    content=body,
                    headers=self.headers(delivery, secret, attempt, body),
                ) as response:
                    snippet = await _snippet(response)
        except Blocked as exc:
            return Outcome(error=str(exc), final=True)
        except TimeoutError:
            return Outcome(error=f"timed out after {self.settings.webhook_timeout_seconds}s")
        except httpx.HTTPError as exc:
            return Outcome(error=clip(f"{type(exc).__name__}: {exc}"))
        if 200 <= response.status_code < 300:
            return Outcome(status=response.status_code)
        return Outcome(
            status=response.status_code, error=clip(f"HTTP {response.status_code}: {snippet}")
        )

    async def _check_address(self, url: str) -> None:
        """With CHECKRUN_WEBHOOK_BLOCK_PRIVATE, every address the host resolves to must be
        public."""
        if not self.settings.webhook_block_private:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or (443 if parts.scheme == "https" else 80)
            )
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if any(is_private_address(str(info[4][0])) for info in infos):
            raise Blocked(
                f"{host} resolves to a private or loopback address, which "
                "CHECKRUN_WEBHOOK_BLOCK_PRIVATE refuses"
            )


async def _snippet(response: httpx.Response) -> str:
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= RESPONSE_SNIPPET_BYTES:
            break
    return data[:RESPONSE_SNIPPET_BYTES].decode("utf-8", "replace")
