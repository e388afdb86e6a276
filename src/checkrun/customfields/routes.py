"""Custom field keys, and the values on ten kinds of record. The value routes are the same
for every kind, so they are made by one function from the kind's path; template-side records
(template, step, form field, kick-off field) take a full PUT only (no PATCH or DELETE), since
a template is saved whole."""

# No `from __future__ import annotations`: the value routes' parameters are annotated with
# the kind's path dependency, a local of the function that makes them.

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.customfields import service
from checkrun.customfields.repository import KeyFilters
from checkrun.customfields.schemas import (
    KeyCreate,
    KeyRead,
    KeyUpdate,
    ValueSet,
    ValuesRead,
    ValuesReplace,
)
from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["custom fields"])
ORG = "/organizations/{org_id}"
KEYS = ORG + "/custom-field-keys"


@router.get(KEYS)
@answers.page(KeyRead)
async def list_keys(
    request: Request,
    db: Db,
    actor: CurrentActor,
    page: Annotated[PageParams, Depends(page_params(10))],
    filters: Annotated[KeyFilters, Depends(service.key_filters)],
) -> JSONResponse:
    keys, total = await service.list_keys(db, actor, page, filters)
    reads = [KeyRead.of(k) for k in keys]
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.post(KEYS, status_code=201)
@answers.item(KeyRead)
async def create_key(db: Db, actor: CurrentActor, body: KeyCreate) -> JSONResponse:
    key = await service.create_key(db, actor, body)
    return responses.item(KeyRead.of(key), status=201)


@router.get(KEYS + "/{key_id}")
@answers.item(KeyRead)
async def get_key(db: Db, actor: CurrentActor, key_id: str) -> JSONResponse:
    return responses.item(KeyRead.of(await service.get_key(db, actor, key_id)))


@router.put(KEYS + "/{key_id}")
@answers.item(KeyRead)
async def update_key(db: Db, actor: CurrentActor, key_id: str, body: KeyUpdate) -> JSONResponse:
    return responses.item(KeyRead.of(await service.update_key(db, actor, key_id, body)))


@router.delete(KEYS + "/{key_id}", status_code=204)
@answers.empty()
async def delete_key(db: Db, actor: CurrentActor, key_id: str) -> Response:
    await service.delete_key(db, actor, key_id)
    return responses.empty(204)


# The path of each kind of record, as a dependency naming its ids.


async def process_path(run_id: str) -> dict[str, str]:
    return {"run_id": run_id}


async def task_path(run_id: str, task_id: str) -> dict[str, str]:
    return {"run_id": run_id, "task_id": task_id}


async def member_path(user_id: str) -> dict[str, str]:
    return {"user_id": user_id}


async def guest_path(guest_code: str) -> dict[str, str]:
    return {"guest_code": guest_code}


async def folder_path(folder_id: str) -> dict[str, str]:
    return {"folder_id": folder_id}


async def tag_path(tag_id: str) -> dict[str, str]:
    return {"tag_id": tag_id}


async def template_path(checklist_id: str) -> dict[str, str]:
    return {"checklist_id": checklist_id}


async def step_path(checklist_id: str, step_id: str) -> dict[str, str]:
    return {"checklist_id": checklist_id, "step_id": step_id}


async def form_field_path(checklist_id: str, step_id: str, capture_id: str) -> dict[str, str]:
    return {"checklist_id": checklist_id, "step_id": step_id, "capture_id": capture_id}


async def kickoff_field_path(checklist_id: str, prerun_id: str) -> dict[str, str]:
    return {"checklist_id": checklist_id, "prerun_id": prerun_id}


# kind, path, its dependency, whether PATCH and DELETE of one key are offered.
RECORDS: tuple[tuple[str, str, Callable[..., Awaitable[dict[str, str]]], bool], ...] = (
    ("process", "/runs/{run_id}", process_path, True),
    ("task", "/runs/{run_id}/tasks/{task_id}", task_path, True),
    ("member", "/users/{user_id}", member_path, True),
    ("guest", "/guests/{guest_code}", guest_path, True),
    ("folder", "/folders/{folder_id}", folder_path, True),
    ("tag", "/tags/{tag_id}", tag_path, True),
    ("template", "/checklists/{checklist_id}", template_path, False),
    ("step", "/checklists/{checklist_id}/steps/{step_id}", step_path, False),
    (
        "form_field",
        "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}",
        form_field_path,
        False,
    ),
    ("kickoff_field", "/checklists/{checklist_id}/preruns/{prerun_id}", kickoff_field_path, False),
)


def _value_routes(
    kind: str, record: str, dependency: Callable[..., Awaitable[dict[str, str]]], one_key: bool
) -> None:
    Path = Annotated[dict[str, str], Depends(dependency)]
    values = ORG + record + "/custom-fields"
    name = kind.replace("_", " ")

    async def get_values(db: Db, actor: CurrentActor, path: Path) -> JSONResponse:
        return responses.item(await service.get_values(db, actor, kind, path))

    async def replace_values(
        db: Db, actor: CurrentActor, path: Path, body: ValuesReplace
    ) -> JSONResponse:
        read = await service.replace_values(db, actor, kind, path, body.custom_fields)
        return responses.item(read)

    async def set_value(
        db: Db, actor: CurrentActor, path: Path, key: str, body: ValueSet
    ) -> JSONResponse:
        return responses.item(await service.set_value(db, actor, kind, path, key, body.value))

    async def remove_value(db: Db, actor: CurrentActor, path: Path, key: str) -> JSONResponse:
        return responses.item(await service.remove_value(db, actor, kind, path, key))

    made: list[tuple[str, str, Any]] = [
        ("GET", values, get_values),
        ("PUT", values, replace_values),
    ]
    if one_key:
        made += [
            ("PATCH", values + "/{key}", set_value),
            ("DELETE", values + "/{key}", remove_value),
        ]
    for method, path, endpoint in made:
        endpoint.__name__ = f"{endpoint.__name__}_of_{kind}"
        router.add_api_route(
            path,
            answers.item(ValuesRead)(endpoint),
            methods=[method],
            summary=f"{endpoint.__name__.split('_of_')[0].replace('_', ' ')} of a {name}",
        )


for _record in RECORDS:
    _value_routes(*_record)
