from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from checkrun.guests import service
from checkrun.guests.models import Guest
from checkrun.guests.repository import GuestFilters
from checkrun.guests.schemas import (
    GuestBrief,
    GuestCreate,
    GuestRead,
    GuestUpdate,
    ToMember,
)
from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import MAX_PAGE, PageParams, pagination_meta
from checkrun.kit.query import from_query
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.members.schemas import UserRead
from checkrun.tasks import service as tasks_service
from checkrun.tasks.listing import with_owner_objects
from checkrun.tasks.params import UNPAGED_LIMIT, flag, list_page, task_filters
from checkrun.tasks.repository import TaskFilters
from checkrun.tasks.schemas import TaskRead

router = APIRouter(route_class=UnitOfWorkRoute, tags=["guests"])
With = Annotated[Includes, Depends(includes)]
GUESTS = "/organizations/{org_id}/guests"
GUEST = GUESTS + "/{email}"
# The documented default page of the guest list, which is also its largest.
GUEST_PAGE = 999


def _number(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


@from_query
def guest_page(
    page: str | None = Query(None),
    per_page: str | None = Query(None),
    without_pagination: str | None = Query(None),
) -> PageParams:
    if flag(without_pagination):
        return PageParams(page=1, per_page=UNPAGED_LIMIT)
    return PageParams(
        page=min(MAX_PAGE, max(1, _number(page, 1))),
        per_page=min(GUEST_PAGE, max(1, _number(per_page, GUEST_PAGE))),
    )


@from_query
def guest_filters(
    q: str | None = None, sort: str | None = None, sort_by: str | None = None
) -> GuestFilters:
    return GuestFilters(q=q, sort=(sort or sort_by or "").strip() or None)


async def _reads(request: Request, db: Db, guests: list[Guest], with_: Includes) -> list[GuestRead]:
    base = api_base(request)
    if not with_.wants("stats") or not guests:
        return [GuestRead.of(g, base) for g in guests]
    stats = await service.stats_of(db, guests[0].org_id, guests)
    return [GuestRead.of(g, base, stats[g.id]) for g in guests]


async def _one(
    request: Request, db: Db, guest: Guest, with_: Includes, status: int = 200
) -> JSONResponse:
    (read,) = await _reads(request, db, [guest], with_)
    return responses.item(read, status=status)


@router.get(GUESTS)
@answers.page(GuestRead)
async def list_guests(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(guest_page)],
    filters: Annotated[GuestFilters, Depends(guest_filters)],
) -> JSONResponse:
    guests, total = await service.list_guests(db, actor, page, filters)
    reads = await _reads(request, db, guests, with_)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.get("/organizations/{org_id}/guests-list")
@answers.items(GuestBrief)
async def list_guests_brief(request: Request, db: Db, actor: CurrentActor) -> JSONResponse:
    # No `meta` at all: the SDK crashes on `meta: null` and reads the count from `data`.
    guests, _ = await service.list_guests(
        db, actor, PageParams(page=1, per_page=UNPAGED_LIMIT), GuestFilters()
    )
    base = api_base(request)
    return JSONResponse({"data": [GuestBrief.of(g, base).model_dump() for g in guests]})


@router.post(GUESTS, status_code=201)
@answers.item(GuestRead)
async def create_guest(
    request: Request, db: Db, actor: CurrentActor, body: GuestCreate, with_: With
) -> JSONResponse:
    guest = await service.create_guest(db, actor, body)
    return await _one(request, db, guest, with_, status=201)


@router.get(GUEST)
@answers.item(GuestRead)
async def get_guest(
    request: Request, db: Db, actor: CurrentActor, email: str, with_: With
) -> JSONResponse:
    return await _one(request, db, await service.get_guest(db, actor, email), with_)


@router.put(GUEST, status_code=201)
@answers.item(GuestRead)
async def update_guest(
    request: Request,
    db: Db,
    actor: CurrentActor,
    email: str,
    with_: With,
    body: GuestUpdate | None = None,
) -> JSONResponse:
    guest = await service.update_guest(db, actor, email, body or GuestUpdate())
    return await _one(request, db, guest, with_, status=201)


@router.delete(GUEST)
@answers.item(GuestRead)
async def remove_guest(
    request: Request, db: Db, actor: CurrentActor, email: str, with_: With
) -> JSONResponse:
    guest = await service.remove_guest(db, actor, email)
    return await _one(request, db, guest, with_)


@router.delete(GUEST + "/delete", status_code=204)
@answers.empty()
async def delete_guest(db: Db, actor: CurrentActor, email: str) -> Response:
    """Permanent, as `DELETE /users/{id}/delete`: 204, after a disable or a removal."""
    await service.purge_guest(db, actor, email)
    return responses.empty(204)


@router.delete(GUEST + "/disable")
@answers.item(GuestRead)
async def disable_guest(
    request: Request, db: Db, actor: CurrentActor, email: str, with_: With
) -> JSONResponse:
    guest = await service.set_disabled(db, actor, email, disabled=True)
    return await _one(request, db, guest, with_)


@router.put(GUEST + "/enable")
@answers.item(GuestRead)
async def enable_guest(
    request: Request, db: Db, actor: CurrentActor, email: str, with_: With
) -> JSONResponse:
    guest = await service.set_disabled(db, actor, email, disabled=False)
    return await _one(request, db, guest, with_)


@router.get(GUESTS + "/{guest_code}/tasks")
@answers.page(TaskRead)
async def list_guest_tasks(
    request: Request,
    db: Db,
    actor: CurrentActor,
    guest_code: str,
    with_: With,
    page: Annotated[PageParams, Depends(list_page(10))],
    filters: Annotated[TaskFilters, Depends(task_filters)],
) -> JSONResponse:
    tasks, total = await service.list_guest_tasks(db, actor, guest_code, page, filters)
    # The guest's own view (their forever link shows these): hidden comments stay hidden.
    reads = await tasks_service.read_tasks(db, tasks, with_, for_guest=True)
    reads = await with_owner_objects(db, tasks, reads)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.post(GUEST + "/to/member")
@answers.item(UserRead)
async def guest_to_member(
    db: Db, actor: CurrentActor, email: str, body: ToMember | None = None
) -> JSONResponse:
    user, membership = await service.guest_to_member(db, actor, email, body or ToMember())
    return responses.item(UserRead.of(user, membership))


@router.put("/organizations/{org_id}/users/{user_id}/to/guest")
@answers.item(GuestRead)
async def member_to_guest(
    request: Request, db: Db, actor: CurrentActor, user_id: str, with_: With
) -> JSONResponse:
    guest = await service.member_to_guest(db, actor, tasks_service.member_id(user_id))
    return await _one(request, db, guest, with_)
