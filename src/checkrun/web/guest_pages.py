"""A guest's pages, opened by the link the API hands out: no account, the code is the key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from checkrun.files import service as files
from checkrun.guests import work
from checkrun.guests.models import Guest
from checkrun.kit.auth import Db
from checkrun.kit.errors import AppError
from checkrun.kit.pagination import PageParams
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.storage import Store
from checkrun.web import task_files, views
from checkrun.web.forms import field_errors
from checkrun.web.http import PREFIX, plain, redirect, render
from checkrun.web.pages import NOTICES

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX + "/guest", include_in_schema=False)
GUEST_ACTIONS = ("save", "complete", "approve", "reject", "comment")
LIST_SIZE = 50


def _base(code: str) -> str:
    return f"{PREFIX}/guest/{code}"


@router.get("/{code}")
async def guest_home(request: Request, db: Db, code: str) -> Response:
    guest = await work.guest_by_code(db, code)
    open_tasks, open_total = await work.tasks_of(db, guest, "active", PageParams(1, LIST_SIZE))
    done, done_total = await work.tasks_of(db, guest, "completed", PageParams(1, LIST_SIZE))
    names = await views.process_names(db, guest.org_id, open_tasks + done)
    org = (await views.org_names(db, [guest.org_id])).get(guest.org_id, "")
    return render(
        request,
        "guest_home.html",
        title="Your tasks",
        guest=guest,
        org=org,
        open_tasks=open_tasks,
        open_total=open_total,
        done=done,
        done_total=done_total,
        names=names,
        base=_base(code),
    )


def _task_html(
    request: Request,
    guest: Guest,
    code: str,
    view: views.TaskView,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    comment_error: str | None = None,
) -> Response:
    return render(
        request,
        "task.html",
        status=status,
        title=view.task.title,
        view=view,
        actor=None,
        guest=guest,
        notice=notice,
        error=error,
        comment_error=comment_error,
        back=_base(code),
        action_url=f"{_base(code)}/tasks/{view.task.id}",
    )


@router.get("/{code}/tasks/{task_id}")
async def guest_task(
    request: Request, db: Db, code: str, task_id: str, notice: str | None = None
) -> Response:
    guest = await work.guest_by_code(db, code)
    task = await work.task_of(db, guest, task_id)
    view = await views.build_task_view(db, task, for_guest=True)
    view.files = await files.files_of_task(db, guest.org_id, task)
    return _task_html(request, guest, code, view, notice=NOTICES.get(notice or ""))


@router.post("/{code}/tasks/{task_id}")
async def guest_action(request: Request, db: Db, store: Store, code: str, task_id: str) -> Response:
    guest = await work.guest_by_code(db, code)
    task = await work.task_of(db, guest, task_id)
    try:
        form = await task_files.read_task_form(
            request, db, store, files.guest_uploader(guest.org_id, guest.email), task
        )
    except task_files.UploadRefused as exc:
        return await _refused(request, db, code, task_id, exc, exc.form, "save")
    action = str(form.get("action", ""))
    if action not in GUEST_ACTIONS:
        return plain(request, 400, "Unknown action", "This form asked for nothing we know.")
    try:
        notice = await _act(request, db, guest, task, action, form)
    except AppError as exc:
        await db.rollback()
        return await _refused(request, db, code, task_id, exc, form, action)
    return redirect(f"{_base(code)}/tasks/{task_id}?notice={notice}")


async def _act(
    request: Request, db: Db, guest: Guest, task: Any, action: str, form: dict[str, Any]
) -> str:
    if action == "comment":
        await work.comment(db, guest, task, str(form.get("content", "")))
        return "commented"
    fields = await views.fields_of(db, task)
    taskdata = await views.form_values(db, task, fields, form)
    await work.save_values(db, guest, task, taskdata, api_base(request))
    if action == "save":
        return "saved"
    approved = {"approve": True, "reject": False}.get(action)
    await work.complete(db, guest, task, approved)
    return {"approve": "approved", "reject": "rejected"}.get(action, "completed")


async def _refused(
    request: Request,
    db: Db,
    code: str,
    task_id: str,
    exc: AppError,
    form: dict[str, Any],
    action: str,
) -> Response:
    guest = await work.guest_by_code(db, code)
    task = await work.task_of(db, guest, task_id)
    errors = field_errors(exc.errors or {}) if exc.status == 422 else {}
    view = await views.build_task_view(
        db, task, for_guest=True, errors=errors, posted=form if action != "comment" else None
    )
    view.files = await files.files_of_task(db, guest.org_id, task)
    if action == "comment":
        return _task_html(request, guest, code, view, exc.status, comment_error=exc.message)
    at_fields = [f for f in view.fields if f.error]
    general = None if at_fields and len(at_fields) == len(errors) else exc.message
    return _task_html(
        request,
        guest,
        code,
        view,
        exc.status,
        error=general or "Please correct the fields marked below.",
    )
