"""Routes of form values one at a time (`tasks/form_values.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.tasks import form_values
from checkrun.tasks.schemas import FormFieldRead, FormValueRead, FormValueWrite
from checkrun.templates.schemas import CaptureRead

router = APIRouter(route_class=UnitOfWorkRoute, tags=["form values"])

KICKOFF_FIELD: dict[str, Any] = {
    "allOf": [
        answers.ref(CaptureRead),
        {
            "type": "object",
            "properties": {"value": {}, "unique_id": {"type": ["integer", "null"]}},
        },
    ]
}
RUN_FORM_FIELDS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "checklist_id": {"type": "string"},
                "form_fields": {
                    "type": "array",
                    "items": {
                        "allOf": [
                            answers.ref(FormFieldRead),
                            {"type": "object", "properties": {"task_id": {"type": "string"}}},
                        ]
                    },
                },
                "ko_form_fields": {"type": "array", "items": KICKOFF_FIELD},
            },
        }
    },
}


@router.get("/organizations/{org_id}/runs/{run_id}/form-fields")
@answers.raw(RUN_FORM_FIELDS, FormFieldRead, CaptureRead)
async def run_form_fields(
    request: Request, db: Db, actor: CurrentActor, run_id: str
) -> JSONResponse:
    return responses.item(await form_values.run_form_fields(db, actor, run_id, api_base(request)))


@router.put("/organizations/{org_id}/form-field/value")
@answers.item(FormValueRead)
async def set_form_value(
    request: Request, db: Db, actor: CurrentActor, body: FormValueWrite
) -> JSONResponse:
    read = await form_values.set_value(db, actor, body, api_base(request))
    return responses.item(read)


@router.post("/organizations/{org_id}/guests/{email}/form-field/value")
@answers.item(FormValueRead)
async def set_guest_form_value(
    request: Request, db: Db, actor: CurrentActor, email: str, body: FormValueWrite
) -> JSONResponse:
    read = await form_values.set_value_as_guest(db, actor, email, body, api_base(request))
    return responses.item(read)
