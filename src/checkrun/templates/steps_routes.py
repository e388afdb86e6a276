"""Steps, their form fields, kick-off fields and automation rules of a template."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.templates import service, steps
from checkrun.templates.schemas import (
    CaptureCreate,
    CapturePosition,
    CaptureRead,
    MoveCapture,
    ReorderStep,
    RuleUpdate,
    RuleWrite,
    StepCreate,
    StepRead,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["templates"])
CHECKLIST = "/organizations/{org_id}/checklists/{checklist_id}"
STEP = CHECKLIST + "/steps/{step_id}"
CAPTURE = STEP + "/captures/{capture_id}"
RULE = CHECKLIST + "/automated-actions/{rule_id}"
NULLABLE_STRING = {"type": ["string", "null"]}
# A rule is stored as the template's JSON, so it has no read model of its own.
AUTOMATION_RULE = answers.Component(
    "AutomationRule",
    {
        "type": "object",
        "required": ["id", "conditions", "then_actions"],
        "properties": {
            "id": {"type": "string"},
            "automated_alias": NULLABLE_STRING,
            "condition_logic": NULLABLE_STRING,
            "conditions": {"type": "array", "items": answers.OBJECT},
            "then_actions": {"type": "array", "items": answers.OBJECT},
            "created_at": NULLABLE_STRING,
            "last_updated": NULLABLE_STRING,
        },
    },
)


@router.post(CHECKLIST + "/steps", status_code=201)
@answers.item(StepRead)
async def create_step(
    db: Db, actor: CurrentActor, checklist_id: str, body: StepCreate
) -> JSONResponse:
    step = await steps.create_step(db, actor, checklist_id, body)
    return responses.item(step, status=201)


@router.get(CHECKLIST + "/steps")
@answers.page(StepRead)
async def list_steps(
    request: Request,
    db: Db,
    actor: CurrentActor,
    checklist_id: str,
    page: Annotated[PageParams, Depends(page_params(10))],
) -> JSONResponse:
    shown, total = await steps.list_steps(db, actor, checklist_id, page)
    return responses.listing(shown, pagination_meta(request, page, total, len(shown)))


@router.get(STEP)
@answers.item(StepRead)
async def get_step(db: Db, actor: CurrentActor, checklist_id: str, step_id: str) -> JSONResponse:
    return responses.item(await steps.get_step(db, actor, checklist_id, step_id))


@router.put(STEP)
@answers.item(StepRead)
async def update_step(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, body: StepCreate
) -> JSONResponse:
    step = await steps.update_step(db, actor, checklist_id, step_id, body)
    return responses.item(step)


@router.delete(STEP, status_code=204)
@answers.empty()
async def delete_step(db: Db, actor: CurrentActor, checklist_id: str, step_id: str) -> Response:
    await steps.delete_step(db, actor, checklist_id, step_id)
    return responses.empty(204)


@router.post(STEP + "/clone", status_code=201)
@answers.item(StepRead)
async def clone_step(db: Db, actor: CurrentActor, checklist_id: str, step_id: str) -> JSONResponse:
    step = await steps.clone_step(db, actor, checklist_id, step_id)
    return responses.item(step, status=201)


@router.put(STEP + "/reorder")
@answers.item(StepRead)
async def reorder_step(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, body: ReorderStep
) -> JSONResponse:
    step = await steps.reorder_step(db, actor, checklist_id, step_id, body.position)
    return responses.item(step)


@router.post(STEP + "/captures", status_code=201)
@answers.item(CaptureRead)
async def create_capture(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, body: CaptureCreate
) -> JSONResponse:
    capture = await steps.create_capture(db, actor, checklist_id, step_id, body)
    return responses.item(capture, status=201)


@router.put(STEP + "/captures")
@answers.items(CaptureRead)
async def place_capture(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, body: CapturePosition
) -> JSONResponse:
    placed = await steps.place_capture(db, actor, checklist_id, step_id, body)
    return responses.item(placed)


@router.get(CAPTURE)
@answers.item(CaptureRead)
async def get_capture(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, capture_id: str
) -> JSONResponse:
    return responses.item(await steps.get_capture(db, actor, checklist_id, step_id, capture_id))


@router.put(CAPTURE)
@answers.item(CaptureRead)
async def update_capture(
    db: Db,
    actor: CurrentActor,
    checklist_id: str,
    step_id: str,
    capture_id: str,
    body: CaptureCreate,
) -> JSONResponse:
    capture = await steps.update_capture(db, actor, checklist_id, step_id, capture_id, body)
    return responses.item(capture)


@router.delete(CAPTURE, status_code=204)
@answers.empty()
async def delete_capture(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, capture_id: str
) -> Response:
    await steps.delete_capture(db, actor, checklist_id, step_id, capture_id)
    return responses.empty(204)


@router.put(CAPTURE + "/move-out")
@answers.item(CaptureRead)
async def move_capture(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, capture_id: str, body: MoveCapture
) -> JSONResponse:
    capture = await steps.move_capture(db, actor, checklist_id, step_id, capture_id, body)
    return responses.item(capture)


@router.delete(CHECKLIST + "/preruns/{prerun_id}", status_code=204)
@answers.empty()
async def delete_prerun(db: Db, actor: CurrentActor, checklist_id: str, prerun_id: str) -> Response:
    await steps.delete_prerun(db, actor, checklist_id, prerun_id)
    return responses.empty(204)


@router.post(CHECKLIST + "/automated-actions", status_code=201)
@answers.item(AUTOMATION_RULE)
async def create_rule(
    db: Db, actor: CurrentActor, checklist_id: str, body: RuleWrite
) -> JSONResponse:
    rule = await service.create_rule(db, actor, checklist_id, body)
    return responses.item(rule, status=201)


@router.put(RULE)
@answers.item(AUTOMATION_RULE)
async def update_rule(
    db: Db, actor: CurrentActor, checklist_id: str, rule_id: str, body: RuleUpdate
) -> JSONResponse:
    rule = await service.update_rule(db, actor, checklist_id, rule_id, body)
    return responses.item(rule)


@router.delete(RULE, status_code=204)
@answers.empty()
async def delete_rule(db: Db, actor: CurrentActor, checklist_id: str, rule_id: str) -> Response:
    await service.delete_rule(db, actor, checklist_id, rule_id)
    return responses.empty(204)
