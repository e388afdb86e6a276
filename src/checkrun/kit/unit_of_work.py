"""The request's unit of work: one session per request (`Db`), committed at the request
boundary when the endpoint returned and rolled back when anything raised. The boundary is the
route itself (`UnitOfWorkRoute`, every router's route class): it runs right after the endpoint
and before the response is sent, so a client never sees a success whose commit could still
fail, and no route can forget to commit. A session asked for outside such a route is refused
rather than left uncommitted. Services only flush; routes and pages never commit.

The route holds the boundary, not a dependency with `yield`: FastAPI wraps each of those in
context managers and a shielded cancel scope per request, which cost a read more than its
commit.

Two departures, both named where they happen:

- A check that must pass before the commit but needs the request (the hourly cap on guest
  invites: the limiter lives on the app) is registered by the service with `before_commit`.
  The boundary runs it just before committing, so its refusal also undoes what it refuses.
  A page that draws such a refusal itself runs the checks earlier, with `run_before_commit`.
- A route whose service orders its own commits around work outside the database (bytes in
  the blob store: an upload commits its record after the bytes, a purge removes the bytes
  after the commit) takes `ServiceCommittedDb`: the boundary does not commit it, and answers
  500 if a write was left that no commit covered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

BeforeCommit = Callable[[Request], Awaitable[None]]
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])

_BOUNDARY = "checkrun.uow.boundary"  # in a session's `info`: opened by `request_session`
_OPEN = "checkrun.uow.open"  # in a request's scope: a `UnitOfWorkRoute` is handling it
_READS = "checkrun.uow.reads"  # in a request's scope: its route only reads
_SESSION = "checkrun.uow.session"  # in a request's scope: its session, once asked for
_HOOKS = "checkrun.uow.before_commit"
_SERVICE_COMMITS = "checkrun.uow.service_commits"
_UNCOMMITTED = "checkrun.uow.uncommitted"
_WRITES_ON_GET = "__checkrun_writes_on_get__"


class UncommittedWrite(RuntimeError):
    """A route whose service commits itself left a write behind (a bug, never the client's)."""


async def request_session(request: Request) -> AsyncSession:
    """The request's session, opened the first time a dependency asks for it."""
    scope = request.scope
    session: AsyncSession | None = scope.get(_SESSION)
    if session is None:
        if not scope.get(_OPEN):
            raise RuntimeError("a session outside a UnitOfWorkRoute: nothing would commit it")
        state = request.app.state
        maker: async_sessionmaker[AsyncSession] = (
            state.read_sessionmaker if scope.get(_READS) else state.sessionmaker
        )
        session = scope[_SESSION] = maker()
        session.info[_BOUNDARY] = True
    return session


def writes_on_get(endpoint: _Endpoint) -> _Endpoint:
    """Marks a GET endpoint that writes (a link that works once, a page that records a
    visit): its request gets a session with a transaction, as every other method's does."""
    setattr(endpoint, _WRITES_ON_GET, True)
    return endpoint


class UnitOfWorkRoute(APIRoute):
    """A route that commits the request's session when its endpoint returned (before the
    response is sent) and rolls it back when anything raised. A GET's session only reads
    (`db.make_read_sessionmaker`) unless its endpoint is marked `writes_on_get`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        methods = self.methods or set()
        reads = bool(methods) and methods <= {"GET", "HEAD"}
        reads = reads and not getattr(self.endpoint, _WRITES_ON_GET, False)

        async def in_unit_of_work(request: Request) -> Response:
            request.scope[_OPEN] = True
            if reads:
                request.scope[_READS] = True
            try:
                response = await handler(request)
            except BaseException:
                await _discard(request.scope)
                raise
            await _finish(request)
            return response

        return in_unit_of_work


async def _finish(request: Request) -> None:
    session: AsyncSession | None = request.scope.pop(_SESSION, None)
    if session is None:
        return
    try:
        if session.info.get(_SERVICE_COMMITS):
            _refuse_uncommitted(session)
        else:
            await run_before_commit(request, session)
            await session.commit()
    except BaseException:
        await _rolled_back(session)
        raise
    await session.close()


async def _discard(scope: Scope) -> None:
    session: AsyncSession | None = scope.pop(_SESSION, None)
    if session is not None:
        await _rolled_back(session)


async def _rolled_back(session: AsyncSession) -> None:
    with anyio.CancelScope(shield=True):  # a cancelled request still hands back cleanly
        await session.rollback()
        await session.close()


Db = Annotated[AsyncSession, Depends(request_session)]


# --- checks run just before the commit ----------------------------------------------------------


def before_commit(db: AsyncSession, hook: BeforeCommit) -> None:
    """Runs `hook` once, just before the request's transaction commits; forgotten when the
    transaction rolls back. Outside a request (workers, the CLI) there is no boundary and
    nothing is registered."""
    if not db.info.get(_BOUNDARY):
        return
    hooks: list[BeforeCommit] | None = db.info.get(_HOOKS)
    if hooks is None:
        hooks = db.info[_HOOKS] = []
        _watch_hooks(db.sync_session)
    hooks.append(hook)


async def run_before_commit(request: Request, db: AsyncSession) -> None:
    """Runs (and forgets) the checks registered so far, in order. The boundary calls it; a page
    calls it inside its own `try` to draw a refusal on the form it came from."""
    hooks: list[BeforeCommit] = db.info.get(_HOOKS) or []
    while hooks:
        await hooks.pop(0)(request)


def _watch_hooks(session: Session) -> None:
    def refuse_early_commit(_: Session) -> None:
        if session.info.get(_HOOKS):
            raise RuntimeError("a commit before the checks registered with before_commit ran")

    def forget(_: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.get(_HOOKS, []).clear()

    event.listen(session, "before_commit", refuse_early_commit)
    event.listen(session, "after_transaction_end", forget)


# --- routes whose service commits ---------------------------------------------------------------


async def _committed_by_service(db: Db) -> AsyncSession:
    db.info[_SERVICE_COMMITS] = True
    session = db.sync_session

    def wrote(*_: Any) -> None:
        session.info[_UNCOMMITTED] = True

    def executed(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            wrote()

    def ended(_: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(_UNCOMMITTED, None)

    event.listen(session, "after_flush", wrote)
    event.listen(session, "do_orm_execute", executed)
    event.listen(session, "after_transaction_end", ended)
    return db


ServiceCommittedDb = Annotated[AsyncSession, Depends(_committed_by_service)]


def _refuse_uncommitted(db: AsyncSession) -> None:
    if db.info.get(_UNCOMMITTED):
        raise UncommittedWrite("a route whose service commits itself left a write uncommitted")
