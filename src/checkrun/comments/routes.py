"""Threads over HTTP: comments, issues and resolutions on tasks, on processes and on templates.
Reads go through the task (`with=threads`) and process (`with=threads`, `with=tasks.threads`)
includes, and a template's through `/checklists/{id}/threads`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from checkrun.comments import service
from checkrun.comments.models import Comment
from checkrun.comments.schemas import (
    BotComment,
    CommentCreate,
    CommentRead,
    CommentUpdate,
    IssueReport,
    ResolveThread,
)
from checkrun.kit import answers, responses
from checkrun.kit.auth import Actor, CurrentActor, Db
from checkrun.kit.ratelimit import hourly_cap
from checkrun.kit.unit_of_work import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["comments"])
TASK = "/organizations/{org_id}/tasks/{task_id}"
RUN = "/organizations/{org_id}/runs/{run_id}"
TEMPLATE = "/organizations/{org_id}/checklists/{checklist_id}"
COMMENTS_PER_HOUR = 120


async def _cap(request: Request, actor: Actor) -> None:
    await hourly_cap(request, actor.org_id, "comment", "Comments", COMMENTS_PER_HOUR)


async def _answer(db: Db, comment: Comment, status: int) -> JSONResponse:
    return responses.item(CommentRead.of(comment), status=status)


# --- task threads -------------------------------------------------------------------------------


@router.post(TASK + "/comment", status_code=201)
@answers.item(CommentRead)
async def comment_on_task(
    request: Request, db: Db, actor: CurrentActor, task_id: str, body: CommentCreate
) -> JSONResponse:
    subject = await service.task_subject(db, actor, task_id)
    await _cap(request, actor)
    return await _answer(db, await service.add_comment(db, actor, subject, body), 201)


@router.put(TASK + "/comment/{comment_id}")
@answers.item(CommentRead)
async def edit_task_comment(
    db: Db, actor: CurrentActor, task_id: str, comment_id: str, body: CommentUpdate
) -> JSONResponse:
    subject = await service.task_subject(db, actor, task_id)
    comment = await service.update_comment(db, actor, subject, comment_id, body)
    return await _answer(db, comment, 200)


@router.delete(TASK + "/comment/{comment_id}", status_code=204)
@answers.empty()
async def delete_task_comment(
    db: Db, actor: CurrentActor, task_id: str, comment_id: str
) -> Response:
    subject = await service.task_subject(db, actor, task_id)
    await service.delete_comment(db, actor, subject, comment_id)
    return responses.empty(204)


@router.post(TASK + "/problem", status_code=201)
@answers.item(CommentRead)
async def report_task_issue(
    request: Request, db: Db, actor: CurrentActor, task_id: str, body: IssueReport
) -> JSONResponse:
    subject = await service.task_subject(db, actor, task_id)
    await _cap(request, actor)
    return await _answer(db, await service.report_issue(db, actor, subject, body), 201)


@router.post(TASK + "/resolved-threads")
@answers.item(CommentRead)
async def resolve_task_issue(
    request: Request, db: Db, actor: CurrentActor, task_id: str, body: ResolveThread
) -> JSONResponse:
    subject = await service.task_subject(db, actor, task_id)
    await _cap(request, actor)
    return await _answer(db, await service.resolve(db, actor, subject, body), 200)


@router.post(TASK + "/bot-comment", status_code=201)
@answers.item(CommentRead)
async def bot_comment_on_task(
    request: Request, db: Db, actor: CurrentActor, task_id: str, body: BotComment
) -> JSONResponse:
    subject = await service.task_subject(db, actor, task_id)
    await _cap(request, actor)
    return await _answer(db, await service.add_bot_comment(db, actor, subject, body), 201)


# --- process threads ----------------------------------------------------------------------------


@router.post(RUN + "/comment", status_code=201)
@answers.item(CommentRead)
async def comment_on_run(
    request: Request, db: Db, actor: CurrentActor, run_id: str, body: CommentCreate
) -> JSONResponse:
    subject = await service.run_subject(db, actor, run_id)
    await _cap(request, actor)
    return await _answer(db, await service.add_comment(db, actor, subject, body), 201)


@router.put(RUN + "/comment/{comment_id}")
@answers.item(CommentRead)
async def edit_run_comment(
    db: Db, actor: CurrentActor, run_id: str, comment_id: str, body: CommentUpdate
) -> JSONResponse:
    subject = await service.run_subject(db, actor, run_id)
    comment = await service.update_comment(db, actor, subject, comment_id, body)
    return await _answer(db, comment, 200)


@router.delete(RUN + "/comment/{comment_id}", status_code=204)
@answers.empty()
async def delete_run_comment(db: Db, actor: CurrentActor, run_id: str, comment_id: str) -> Response:
    subject = await service.run_subject(db, actor, run_id)
    await service.delete_comment(db, actor, subject, comment_id)
    return responses.empty(204)


@router.post(RUN + "/problem", status_code=201)
@answers.item(CommentRead)
async def report_run_issue(
    request: Request, db: Db, actor: CurrentActor, run_id: str, body: IssueReport
) -> JSONResponse:
    subject = await service.run_subject(db, actor, run_id)
    await _cap(request, actor)
    return await _answer(db, await service.report_issue(db, actor, subject, body), 201)


@router.post(RUN + "/resolved-threads")
@answers.item(CommentRead)
async def resolve_run_issue(
    request: Request, db: Db, actor: CurrentActor, run_id: str, body: ResolveThread
) -> JSONResponse:
    subject = await service.run_subject(db, actor, run_id)
    await _cap(request, actor)
    return await _answer(db, await service.resolve(db, actor, subject, body), 200)


# --- template threads ---------------------------------------------------------------------------
# Tallyfy names `/checklists/{id}/comment`, `/problem` and `/resolved-threads`; the bodies are
# the task's and the process's. The list is checkrun's own read (templates have no `threads`
# include).


@router.get(TEMPLATE + "/threads")
@answers.items(CommentRead)
async def list_template_threads(db: Db, actor: CurrentActor, checklist_id: str) -> JSONResponse:
    subject = await service.template_subject(db, actor, checklist_id)
    found = await service.template_threads(db, actor.org_id, subject.checklist_id or "")
    return JSONResponse({"data": responses.dump([CommentRead.of(c) for c in found])})


@router.post(TEMPLATE + "/comment", status_code=201)
@answers.item(CommentRead)
async def comment_on_template(
    request: Request, db: Db, actor: CurrentActor, checklist_id: str, body: CommentCreate
) -> JSONResponse:
    subject = await service.template_subject(db, actor, checklist_id)
    await _cap(request, actor)
    return await _answer(db, await service.add_comment(db, actor, subject, body), 201)


@router.put(TEMPLATE + "/comment/{comment_id}")
@answers.item(CommentRead)
async def edit_template_comment(
    db: Db, actor: CurrentActor, checklist_id: str, comment_id: str, body: CommentUpdate
) -> JSONResponse:
    subject = await service.template_subject(db, actor, checklist_id)
    comment = await service.update_comment(db, actor, subject, comment_id, body)
    return await _answer(db, comment, 200)


@router.delete(TEMPLATE + "/comment/{comment_id}", status_code=204)
@answers.empty()
async def delete_template_comment(
    db: Db, actor: CurrentActor, checklist_id: str, comment_id: str
) -> Response:
    subject = await service.template_subject(db, actor, checklist_id)
    await service.delete_comment(db, actor, subject, comment_id)
    return responses.empty(204)


@router.post(TEMPLATE + "/problem", status_code=201)
@answers.item(CommentRead)
async def report_template_issue(
    request: Request, db: Db, actor: CurrentActor, checklist_id: str, body: IssueReport
) -> JSONResponse:
    subject = await service.template_subject(db, actor, checklist_id)
    await _cap(request, actor)
    return await _answer(db, await service.report_issue(db, actor, subject, body), 201)


@router.post(TEMPLATE + "/resolved-threads")
@answers.item(CommentRead)
async def resolve_template_issue(
    request: Request, db: Db, actor: CurrentActor, checklist_id: str, body: ResolveThread
) -> JSONResponse:
    subject = await service.template_subject(db, actor, checklist_id)
    await _cap(request, actor)
    return await _answer(db, await service.resolve(db, actor, subject, body), 200)
