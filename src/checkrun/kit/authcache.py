"""A short-lived, in-process cache of what authentication reads: token hash -> the user and the
token's facts, (organization, user) -> the membership's role and status and the groups the
member is in (which their task lists read).

Entries live `CHECKRUN_AUTH_CACHE_SECONDS` (0: no cache). Any statement of this process that
updates or deletes a user, membership, access token or organization, or changes who is in a
group (whichever code sends it:
the API, the web app, the CLI, a test) empties the cache at once and again when its
transaction ends, so within a process a revoke, a disable or a role change is seen by the very
next request. Another process sees it when its entries age out, within the TTL.

Plain data is cached, never an ORM object: a request that reads its caller's `User` gets its
own, attached to its session without a statement (`attached_user`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from checkrun.db import settings_of
from checkrun.members.models import User

DEFAULT_SECONDS = 2.0
# Writes that can end or change what is cached (ON DELETE CASCADE takes memberships and tokens
# with a user or an organization). Inserts can't, but into group_members: nothing absent is
# cached except a member's list of groups. An organization's updates (its counters move with
# every launch) leave it alone.
_WATCHED = re.compile(
    r'^\s*(?:UPDATE\s+(?:"?\w+"?\.)?"?(?:users|memberships|access_tokens|group_members)\b'
    r'|INSERT\s+INTO\s+(?:"?\w+"?\.)?"?group_members\b'
    r'|DELETE\s+FROM\s+(?:"?\w+"?\.)?"?'
    r"(?:users|memberships|access_tokens|organizations|groups|group_members)\b)",
    re.IGNORECASE,
)
_DIRTY = "checkrun_auth_dirty"
_USER_COLUMNS = tuple(c.key for c in inspect(User).column_attrs)


@dataclass(frozen=True)
class TokenFacts:
    user: dict[str, Any]
    token_org_id: str
    org_bound: bool
    expires_at: datetime | None


@dataclass(frozen=True)
class MemberFacts:
    role: str
    status: str


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Any, tuple[float, Any]] = {}
        self.generation = 0

    def get(self, key: Any, ttl: float) -> Any:
        found = self._entries.get(key)
        if found is None or ttl <= 0 or time.monotonic() - found[0] > ttl:
            return None
        return found[1]

    def put(self, key: Any, value: Any, generation: int, ttl: float) -> None:
        """Stored only if nothing was invalidated since `generation` was read: a lookup that
        raced a change must not put back what the change just ended."""
        if ttl <= 0:
            return
        with self._lock:
            if generation == self.generation:
                if len(self._entries) > 50_000:
                    self._entries.clear()
                self._entries[key] = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


cache = _Cache()


def ttl_of(db: AsyncSession) -> float:
    settings = settings_of(db)
    return DEFAULT_SECONDS if settings is None else settings.auth_cache_seconds


def token(db: AsyncSession, digest: str) -> TokenFacts | None:
    found: TokenFacts | None = cache.get(("token", digest), ttl_of(db))
    return found


def member(db: AsyncSession, org_id: str, user_id: int) -> MemberFacts | None:
    found: MemberFacts | None = cache.get(("member", org_id, user_id), ttl_of(db))
    return found


def remember_token(
    db: AsyncSession,
    generation: int,
    digest: str,
    user: User,
    org_id: str,
    bound: bool,
    expires: datetime | None,
) -> TokenFacts:
    facts = TokenFacts(
        user={key: getattr(user, key) for key in _USER_COLUMNS},
        token_org_id=org_id,
        org_bound=bound,
        expires_at=expires,
    )
    cache.put(("token", digest), facts, generation, ttl_of(db))
    return facts


def remember_member(
    db: AsyncSession, generation: int, org_id: str, user_id: int, role: str, status: str
) -> MemberFacts:
    facts = MemberFacts(role, status)
    cache.put(("member", org_id, user_id), facts, generation, ttl_of(db))
    return facts


def member_groups(db: AsyncSession, org_id: str, user_id: int) -> tuple[str, ...] | None:
    found: tuple[str, ...] | None = cache.get(("groups", org_id, user_id), ttl_of(db))
    return found


def remember_member_groups(
    db: AsyncSession, generation: int, org_id: str, user_id: int, group_ids: tuple[str, ...]
) -> tuple[str, ...]:
    cache.put(("groups", org_id, user_id), group_ids, generation, ttl_of(db))
    return group_ids


def attached_user(db: AsyncSession, data: dict[str, Any]) -> User:
    """A `User` of this session built from cached columns, without a statement: the session's
    own when it holds that user already, else a new one added as if loaded (cheaper than
    `merge`, which copies every column onto a second object)."""
    held = db.identity_map.get(identity_key(User, data["id"]))
    if isinstance(held, User):
        return held
    user = User()
    for key, value in data.items():
        set_committed_value(user, key, value)
    make_transient_to_detached(user)
    db.add(user)
    return user


def _on_statement(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    if _WATCHED.match(statement):
        conn.info[_DIRTY] = True
        cache.clear()


def _on_end(conn: Connection) -> None:
    if conn.invalidated:
        # A connection lost mid-transaction (a cancelled request, a dropped link): what it
        # sent is unknown, so forget everything. Reading its `info` would raise here and
        # replace the error, or the cancellation, being unwound.
        cache.clear()
    elif conn.info.pop(_DIRTY, False):
        cache.clear()


# Every engine of the process: a change made through any of them ends what it makes stale.
event.listen(Engine, "before_cursor_execute", _on_statement)
event.listen(Engine, "commit", _on_end)
event.listen(Engine, "rollback", _on_end)
