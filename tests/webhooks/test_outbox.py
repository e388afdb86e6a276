"""The outbox's leases: several workers on one database never send a delivery twice, a leased
row waits for its lease, and a lease left behind by a crash expires."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from checkrun.db import make_engine, make_sessionmaker
from checkrun.kit.clock import now
from checkrun.webhooks.models import Delivery
from checkrun.webhooks.worker import DeliveryWorker, backoff
from tests.conftest import Org
from tests.webhooks.conftest import Receiver, deliveries, wait_for_rows


def outbox_rows(org: Org, url: str, count: int, **fields: object) -> list[Delivery]:
    return [
        Delivery(
            org_id=org.id,
            event="process.launched",
            url=url,
            body=f'{{"n":{i}}}',
            source="watcher",
            **fields,
        )
        for i in range(count)
    ]


def add_rows(org: Org, made: list[Delivery]) -> None:
    async def work() -> None:
        engine = make_engine(org.server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                db.add_all(made)
                await db.commit()
        finally:
            await engine.dispose()

    asyncio.run(work())


def test_several_workers_send_each_delivery_once(org: Org, receiver: Receiver) -> None:
    count = 40
    made = outbox_rows(org, receiver.url("/many"), count)

    async def work() -> None:
        engine = make_engine(org.server.settings.resolved_database_url)
        maker = make_sessionmaker(engine)
        # Three more workers next to the server's own, as if four processes shared the database.
        workers = [DeliveryWorker(maker, org.server.settings) for _ in range(3)]
        try:
            for worker in workers:
                await worker.start()
            async with maker() as db:
                db.add_all(made)
                await db.commit()
            await asyncio.to_thread(receiver.at, "/many", count)
            await asyncio.to_thread(wait_for_rows, org, "status = 'delivered'", count)
        finally:
            for worker in workers:
                await worker.stop()
            await engine.dispose()

    asyncio.run(work())
    sent = Counter(r.header("X-Checkrun-Delivery") for r in receiver.to("/many"))
    assert set(sent) == {d.id for d in made}
    assert set(sent.values()) == {1}
    assert {r["attempts"] for r in deliveries(org)} == {1}


def test_a_leased_row_waits_and_an_expired_lease_is_taken_over(
    org: Org, receiver: Receiver
) -> None:
    (held,) = outbox_rows(
        org, receiver.url("/held"), 1, lease_token="a" * 32, lease_until=now() + timedelta(hours=1)
    )
    (crashed,) = outbox_rows(
        org,
        receiver.url("/crashed"),
        1,
        lease_token="b" * 32,
        lease_until=now() - timedelta(seconds=1),
    )
    (later,) = outbox_rows(
        org, receiver.url("/later"), 1, next_attempt_at=now() + timedelta(hours=1)
    )
    add_rows(org, [held, crashed, later])
    (sent,) = receiver.at("/crashed")
    assert sent.header("X-Checkrun-Delivery") == crashed.id
    wait_for_rows(org, "status = 'delivered'")
    assert receiver.to("/held") == [] and receiver.to("/later") == []
    statuses = {r["id"]: (r["status"], r["attempts"]) for r in deliveries(org)}
    assert statuses == {
        held.id: ("pending", 0),
        crashed.id: ("delivered", 1),
        later.id: ("pending", 0),
    }


def test_backoff_grows_and_is_capped(org: Org) -> None:
    settings = org.server.settings.model_copy(
        update={"webhook_backoff_seconds": 10.0, "webhook_backoff_max_seconds": 100.0}
    )
    for attempts, full in ((1, 10.0), (2, 20.0), (3, 40.0), (4, 80.0), (5, 100.0), (30, 100.0)):
        waits = [backoff(settings, attempts) for _ in range(50)]
        assert all(full / 2 <= w <= full for w in waits), (attempts, waits)
        assert len(set(waits)) > 1  # jittered
