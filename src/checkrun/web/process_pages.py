"""Processes in the browser: the list and its filters, a process page with archive / restore /
delete, launching a template through its kick-off form, and one-off tasks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from checkrun.kit.auth import Db
from checkrun.kit.errors import AppError
from checkrun.kit.unit_of_work import UnitOfWorkRoute, run_before_commit
from checkrun.kit.urls import api_base
from checkrun.storage import Store
from checkrun.web import process_views as views
from checkrun.web.forms import field_errors
from checkrun.web.http import PREFIX, form_of, plain, redirect, render
from checkrun.web.pages import Member, Page

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX, include_in_schema=False)
NOTICES = {
    "launched": "Process launched.",
    "archived": "Process archived.",
    "restored": "Process restored.",
    "deleted": "Process deleted permanently.",
}
ACTIONS = ("archive", "restore", "delete")
FIX_FIELDS = "Please correct the fields marked below."


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


def _id(value: str | None) -> str:
    """A filter's id as sent, or nothing when it can't be one (no 500 on junk)."""
    text = (value or "").strip()
    return text if len(text) <= 64 else ""


@router.get("/processes")
async def process_list(
    request: Request,
    db: Db,
    page: Member,
    status: str | None = None,
    template: str | None = None,
    tag: str | None = None,
    p: str | None = None,
    notice: str | None = None,
) -> Response:
    found = await views.process_list(
        db, page.actor, (status or "").strip().lower(), _id(template), _id(tag), _page_number(p)
    )
    return render(
        request,
        "processes.html",
        title="Processes",
        list=found,
        statuses=views.STATUSES,
        light=page.actor.is_light,
        notice=NOTICES.get(notice or ""),
    )


@router.get("/processes/{run_id}")
async def process_page(
    request: Request, db: Db, page: Member, run_id: str, notice: str | None = None
) -> Response:
    return await _process_html(request, db, page, run_id, notice=NOTICES.get(notice or ""))


async def _process_html(
    request: Request,
    db: Db,
    page: Page,
    run_id: str,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    view = await views.process_view(db, page.actor, run_id)
    return render(
        request,
        "process.html",
        status=status,
        title=view.run.name,
        view=view,
        actor=page.actor,
        notice=notice,
        error=error,
    )


@router.post("/processes/{run_id}")
async def process_action(
    request: Request, db: Db, store: Store, page: Member, run_id: str
) -> Response:
    form = await form_of(request)
    action = str(form.get("action", ""))
    if action not in ACTIONS:
        return plain(request, 400, "Unknown action", "This form asked for nothing we know.")
    try:
        if action == "delete":
            await views.delete(db, store, page.actor, run_id)
            return redirect(f"{PREFIX}/processes?notice=deleted")
        if action == "archive":
            await views.archive(db, page.actor, run_id)
        else:
            await views.restore(db, page.actor, run_id)
    except AppError as exc:
        await db.rollback()
        if exc.status == 404:
            raise
        return await _process_html(request, db, page, run_id, exc.status, error=exc.message)
    done = {"archive": "archived", "restore": "restored"}[action]
    return redirect(f"{PREFIX}/processes/{run_id}?notice={done}")


@router.get("/launch")
async def launch_picker(request: Request, db: Db, page: Member, q: str | None = None) -> Response:
    query = (q or "").strip()[:200]
    choices = await views.template_search(db, page.actor, query or None)
    return render(request, "launch_pick.html", title="Launch a process", choices=choices, q=query)


@router.get("/launch/{template_id}")
async def launch_page(request: Request, db: Db, page: Member, template_id: str) -> Response:
    form = await views.launch_form(db, page.actor, template_id)
    return _launch_html(request, form)


def _launch_html(
    request: Request,
    form: views.LaunchForm,
    status: int = 200,
    error: str | None = None,
    name_error: str | None = None,
) -> Response:
    return render(
        request,
        "launch.html",
        status=status,
        title=f"Launch {form.checklist.title}",
        form=form,
        error=error,
        name_error=name_error,
    )


@router.post("/launch/{template_id}")
async def launch(request: Request, db: Db, page: Member, template_id: str) -> Response:
    form = await form_of(request)
    try:
        run = await views.launch(db, page.actor, template_id, form, api_base(request))
        await run_before_commit(request, db)  # the invite cap's 429 is drawn on this form
    except AppError as exc:
        await db.rollback()
        if exc.status in (403, 404):
            raise
        errors = exc.errors or {}
        shown = await views.launch_form(
            db, page.actor, template_id, form, field_errors(errors, "prerun.")
        )
        at_fields = [f for f in shown.fields if f.id in shown.errors]
        name_error = next(iter(errors.get("name") or []), None)
        general = None if at_fields or name_error else exc.message
        return _launch_html(
            request, shown, exc.status, error=general or FIX_FIELDS, name_error=name_error
        )
    return redirect(f"{PREFIX}/processes/{run.id}?notice=launched")


@router.get("/new-task")
async def new_task_page(request: Request, db: Db, page: Member) -> Response:
    return await _new_task_html(request, db, page, {}, {})


async def _new_task_html(
    request: Request,
    db: Db,
    page: Page,
    posted: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    if page.actor.is_light:
        # The same refusal the service gives a forged POST: no form to fill in vain.
        raise AppError(403, "Light members can't perform this action.", "FORBIDDEN")
    chosen = posted.get("users", [])
    groups = posted.get("groups", [])
    return render(
        request,
        "new_task.html",
        status=status,
        title="New task",
        posted=posted,
        errors=errors,
        members=await views.member_choices(db, page.actor),
        groups=await views.group_choices(db, page.actor),
        chosen_users=chosen if isinstance(chosen, list) else [chosen],
        chosen_groups=groups if isinstance(groups, list) else [groups],
        error=FIX_FIELDS if errors else None,
    )


# The API's field names as the form calls them.
FORM_FIELDS = {"title": "title", "deadline": "deadline", "owners": "assignees"}


def _form_errors(keys_and_messages: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, message in keys_and_messages:
        out.setdefault(FORM_FIELDS.get(key.split(".")[0], "title"), message)
    return out


@router.post("/new-task")
async def create_task(request: Request, db: Db, page: Member) -> Response:
    form = await form_of(request)
    try:
        body = views.one_off_body(form)
    except ValidationError as exc:
        return await _new_task_html(
            request,
            db,
            page,
            form,
            _form_errors(
                [(str(e["loc"][0]), _message(str(e["loc"][0]), e["msg"])) for e in exc.errors()]
            ),
            422,
        )
    try:
        task = await views.create_task(db, page.actor, body)
        await run_before_commit(request, db)  # the invite cap's 429 is drawn on this form
    except AppError as exc:
        await db.rollback()
        if exc.status in (403, 404):
            raise
        errors = [(k, v[0]) for k, v in (exc.errors or {}).items() if v]
        return await _new_task_html(
            request, db, page, form, _form_errors(errors or [("title", exc.message)]), exc.status
        )
    return redirect(f"{PREFIX}/tasks/{task.id}?notice=created")


def _message(field: str, pydantic_message: str) -> str:
    """People's words for the model's refusals."""
    if field == "title":
        return "Give the task a title."
    if field == "deadline":
        return "Choose a deadline date (and a time, HH:MM)."
    return pydantic_message
