"""SQLite's driver (`checkrun/sqlite_connection.py`) runs some calls on the event loop's thread;
a statement waiting on another connection's write lock must still wait on its own thread, so
the server keeps answering meanwhile."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import live_server, new_org
from tests.support.factories import ok


def test_a_write_waiting_on_the_lock_leaves_reads_answered(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path) as live, new_org(live) as org:
        ok(org.api.post(org.path("/tags"), json={"title": "before"}), 201)
        writer = org.client(org.token)
        holder = sqlite3.connect(tmp_path / "checkrun.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
        try:
            with ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(
                    writer.post, org.path("/tags"), json={"title": "after the lock"}
                )
                time.sleep(0.5)  # the write reaches the lock: the reads below come after it
                for _ in range(3):
                    titles = [t["title"] for t in ok(org.api.get(org.path("/tags")))]
                    assert titles == ["before"]
                assert not waiting.done()
                holder.execute("ROLLBACK")
                ok(waiting.result(timeout=60), 201)
        finally:
            holder.close()
        after = {t["title"] for t in ok(org.api.get(org.path("/tags")))}
        assert after == {"before", "after the lock"}
