"""PostgreSQL's pool: a connection the database dropped while it sat idle in the pool is
replaced before a request gets it (a restart, or a firewall's idle timeout, must not turn into
errors for the next requests)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import live_server, new_org
from tests.support.factories import ok

DROP_OTHERS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def test_a_connection_dropped_while_idle_is_replaced_before_use(tmp_path: Path) -> None:
    with live_server("postgresql", tmp_path, db_ping_idle_seconds=0.2) as live:
        with new_org(live) as org:
            for _ in range(3):
                ok(org.api.get(org.path("/tags")))  # the pool holds live connections now
            live.execute(DROP_OTHERS)  # as a database restart would
            time.sleep(0.5)  # they sit idle longer than the ping threshold
            for _ in range(5):
                ok(org.api.get(org.path("/tags")))
