"""Templates in the browser: the list, a template's outline, and (for members who may edit
templates) its title, summary, steps, and the form fields of its steps and kick-off form.
Every change goes through the templates services, which enforce the roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from checkrun.groups import service as groups
from checkrun.kit.auth import Actor, Db, require_not_light
from checkrun.kit.errors import AppError, not_found
from checkrun.kit.pagination import PageParams
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.members import service as members
from checkrun.runs import public
from checkrun.templates import service, steps
from checkrun.templates.models import Capture, Step
from checkrun.templates.schemas import (
    CaptureCreate,
    ChecklistCreate,
    ChecklistUpdate,
    StepCreate,
)
from checkrun.web import template_forms as tf
from checkrun.web.http import PREFIX, form_of, redirect, render
from checkrun.web.pages import Member

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix=PREFIX + "/templates", include_in_schema=False
)
PER_PAGE = 20
NOTICES = {
    "created": "Template created.",
    "saved": "Your changes were saved.",
    "step-added": "Step added.",
    "step-saved": "Step saved.",
    "step-moved": "Step moved.",
    "step-removed": "Step removed.",
    "field-added": "Form field added.",
    "field-saved": "Form field saved.",
    "field-removed": "Form field removed.",
}


@dataclass
class FormState:
    """Which form was refused, with what was typed and why (absent on a plain GET)."""

    failed: str | None = None
    posted: dict[str, Any] = field(default_factory=dict)
    refusal: tf.Refusal | None = None

    def error(self, form: str, control: str) -> str | None:
        if self.failed != form or self.refusal is None:
            return None
        return self.refusal.errors.get(control)


async def _undo(db: Db, actor: Actor) -> None:
    """A refused change leaves nothing behind; the page is then drawn again, and the rollback
    expired the signed-in user that drawing reads."""
    await db.rollback()
    await db.refresh(actor.user)


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


def _base(template_id: str) -> str:
    return f"{PREFIX}/templates/{template_id}"


async def _people(db: Db, actor: Actor) -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """Members and groups that may be picked as assignees."""
    everyone = await members.list_brief(db, actor)
    found, _ = await groups.list_groups(db, actor, PageParams(1, 100), None, None)
    return (
        [(m.id, m.full_name.strip() or m.email) for m in everyone],
        [(g.id, g.name) for g in found],
    )


@router.get("")
async def template_list(
    request: Request, db: Db, page: Member, q: str | None = None, p: str | None = None
) -> Response:
    return await _list_html(
        request, db, page.actor, (q or "").strip()[:200], _page_number(p), FormState()
    )


async def _list_html(
    request: Request, db: Db, actor: Actor, q: str, number: int, state: FormState
) -> Response:
    filters = service.checklist_filters(q=q or None, sort_by="title")
    rows, total = await service.checklist_summaries(
        db, actor, PageParams(number, PER_PAGE), filters
    )
    pages = max(1, -(-total // PER_PAGE))
    if number > pages:
        rows, _ = await service.checklist_summaries(db, actor, PageParams(pages, PER_PAGE), filters)
        number = pages
    status = state.refusal.status if state.refusal else 200
    return render(
        request,
        "template_list.html",
        status=status,
        title="Templates",
        rows=rows,
        total=total,
        q=q,
        page_no=number,
        pages=pages,
        editor=not actor.is_light,
        state=state,
    )


@router.post("")
async def create_template(request: Request, db: Db, page: Member) -> Response:
    form = await form_of(request)
    try:
        body = tf.validated(
            ChecklistCreate,
            {
                "title": tf.text(form, "title"),
                "summary": tf.text(form, "summary") or None,
                "type": "procedure",
            },
        )
        made = await service.create_checklist(db, page.actor, body)
    except AppError as exc:
        await _undo(db, page.actor)
        state = FormState("new", form, tf.refusal(exc, tf.TEMPLATE_CONTROLS))
        return await _list_html(request, db, page.actor, "", 1, state)
    return redirect(f"{_base(made.id)}?notice=created")


@router.get("/{template_id}")
async def template_page(
    request: Request, db: Db, page: Member, template_id: str, notice: str | None = None
) -> Response:
    return await _template_html(
        request, db, page.actor, template_id, FormState(), NOTICES.get(notice or "")
    )


async def _template_html(
    request: Request,
    db: Db,
    actor: Actor,
    template_id: str,
    state: FormState,
    notice: str | None = None,
) -> Response:
    outline = await steps.outline(db, actor, template_id)
    people, teams = await _people(db, actor)
    names = dict(people)
    group_names = dict(teams)
    titles = {s.id: s.title for s in outline.steps}
    rows = [
        {
            "step": s,
            "fields": outline.captures.get(s.id, []),
            "deadline": tf.deadline_text(s.deadline, titles),
            "assignees": [names.get(u, f"Member {u}") for u in s.assignees or []]
            + list(s.guests or [])
            + [group_names.get(g, "Group") for g in s.groups or []],
        }
        for s in outline.steps
    ]
    status = state.refusal.status if state.refusal else 200
    return render(
        request,
        "template_page.html",
        status=status,
        title=outline.checklist.title,
        outline=outline,
        rows=rows,
        editor=not actor.is_light,
        state=state,
        notice=notice,
        field_types=tf.FIELD_TYPES,
        base=_base(template_id),
        launch_url=PREFIX + "/launch/" + template_id,
        public_link=public.link(outline.checklist.org_id, template_id)
        if public.is_public(outline.checklist)
        else None,
    )


async def _template_refused(
    request: Request,
    db: Db,
    actor: Actor,
    template_id: str,
    exc: AppError,
    form_name: str,
    form: dict[str, Any],
    controls: set[str],
    fallback: str | None = None,
) -> Response:
    if exc.status == 404:
        raise exc
    await _undo(db, actor)
    state = FormState(form_name, form, tf.refusal(exc, controls, fallback))
    return await _template_html(request, db, actor, template_id, state)


@router.post("/{template_id}")
async def save_template(request: Request, db: Db, page: Member, template_id: str) -> Response:
    form = await form_of(request)
    try:
        body = tf.validated(
            ChecklistUpdate, {"title": tf.text(form, "title"), "summary": tf.text(form, "summary")}
        )
        await service.update_checklist(db, page.actor, template_id, body, api_base(request))
    except AppError as exc:
        return await _template_refused(
            request, db, page.actor, template_id, exc, "details", form, tf.TEMPLATE_CONTROLS
        )
    return redirect(f"{_base(template_id)}?notice=saved")


@router.post("/{template_id}/steps")
async def add_step(request: Request, db: Db, page: Member, template_id: str) -> Response:
    form = await form_of(request)
    try:
        body = tf.validated(StepCreate, {"title": tf.text(form, "title")})
        await steps.create_step(db, page.actor, template_id, body)
    except AppError as exc:
        return await _template_refused(
            request, db, page.actor, template_id, exc, "step-new", form, {"title"}
        )
    return redirect(f"{_base(template_id)}?notice=step-added#steps")


@router.post("/{template_id}/steps/{step_id}/move")
async def move_step(
    request: Request, db: Db, page: Member, template_id: str, step_id: str
) -> Response:
    form = await form_of(request)
    offset = {"up": -1, "down": 1}.get(tf.text(form, "direction"))
    if offset is None:
        raise AppError(400, "Move a step up or down.", "BAD_REQUEST")
    try:
        await steps.move_step(db, page.actor, template_id, step_id, offset)
    except AppError as exc:
        return await _template_refused(
            request, db, page.actor, template_id, exc, "steps", form, set()
        )
    return redirect(f"{_base(template_id)}?notice=step-moved#step-{step_id}")


@router.post("/{template_id}/steps/{step_id}/remove")
async def remove_step(
    request: Request, db: Db, page: Member, template_id: str, step_id: str
) -> Response:
    form = await form_of(request)
    try:
        await steps.delete_step(db, page.actor, template_id, step_id)
    except AppError as exc:
        return await _template_refused(
            request, db, page.actor, template_id, exc, "steps", form, set()
        )
    return redirect(f"{_base(template_id)}?notice=step-removed#steps")


def _step_of(outline: steps.Outline, step_id: str) -> Step:
    found = next((s for s in outline.steps if s.id == step_id), None)
    if found is None:
        raise not_found()
    return found


@router.get("/{template_id}/steps/{step_id}")
async def step_page(
    request: Request,
    db: Db,
    page: Member,
    template_id: str,
    step_id: str,
    notice: str | None = None,
) -> Response:
    return await _step_html(
        request, db, page.actor, template_id, step_id, FormState(), NOTICES.get(notice or "")
    )


async def _step_html(
    request: Request,
    db: Db,
    actor: Actor,
    template_id: str,
    step_id: str,
    state: FormState,
    notice: str | None = None,
) -> Response:
    outline = await steps.outline(db, actor, template_id)
    step = _step_of(outline, step_id)
    require_not_light(actor)
    people, teams = await _people(db, actor)
    status = state.refusal.status if state.refusal else 200
    return render(
        request,
        "template_step.html",
        status=status,
        title=f"Step: {step.title}",
        outline=outline,
        step=step,
        fields=outline.captures.get(step.id, []),
        people=people,
        teams=teams,
        units=tf.DEADLINE_UNITS,
        field_types=tf.FIELD_TYPES,
        state=state,
        notice=notice,
        base=_base(template_id),
        step_url=f"{_base(template_id)}/steps/{step.id}",
    )


async def _step_refused(
    request: Request,
    db: Db,
    actor: Actor,
    template_id: str,
    step_id: str,
    exc: AppError,
    form_name: str,
    form: dict[str, Any],
    controls: set[str],
    fallback: str | None = None,
) -> Response:
    if exc.status == 404:
        raise exc
    await _undo(db, actor)
    state = FormState(form_name, form, tf.refusal(exc, controls, fallback))
    return await _step_html(request, db, actor, template_id, step_id, state)


@router.post("/{template_id}/steps/{step_id}")
async def save_step(
    request: Request, db: Db, page: Member, template_id: str, step_id: str
) -> Response:
    form = await form_of(request)
    step = _step_of(await steps.outline(db, page.actor, template_id), step_id)
    try:
        await steps.edit_step(db, page.actor, template_id, step_id, tf.step_changes(form, step))
    except AppError as exc:
        return await _step_refused(
            request, db, page.actor, template_id, step_id, exc, "step", form, tf.STEP_CONTROLS
        )
    return redirect(f"{_base(template_id)}/steps/{step_id}?notice=step-saved")


@router.post("/{template_id}/steps/{step_id}/fields")
async def add_step_field(
    request: Request, db: Db, page: Member, template_id: str, step_id: str
) -> Response:
    form = await form_of(request)
    try:
        body = tf.validated(CaptureCreate, tf.capture_body(form))
        await steps.create_capture(db, page.actor, template_id, step_id, body)
    except AppError as exc:
        return await _step_refused(
            request,
            db,
            page.actor,
            template_id,
            step_id,
            exc,
            "field-new",
            form,
            tf.FIELD_CONTROLS,
            tf.capture_fallback(form),
        )
    return redirect(f"{_base(template_id)}/steps/{step_id}?notice=field-added#fields")


@router.post("/{template_id}/steps/{step_id}/fields/{field_id}/remove")
async def remove_step_field(
    request: Request, db: Db, page: Member, template_id: str, step_id: str, field_id: str
) -> Response:
    form = await form_of(request)
    try:
        await steps.delete_capture(db, page.actor, template_id, step_id, field_id)
    except AppError as exc:
        return await _step_refused(
            request, db, page.actor, template_id, step_id, exc, "fields", form, set()
        )
    return redirect(f"{_base(template_id)}/steps/{step_id}?notice=field-removed#fields")


# One form field's page: a step's field or a kick-off field.


@dataclass(frozen=True)
class FieldPlace:
    template_id: str
    step: Step | None
    capture: Capture

    @property
    def url(self) -> str:
        middle = f"steps/{self.step.id}/fields" if self.step else "kickoff"
        return f"{_base(self.template_id)}/{middle}/{self.capture.id}"

    @property
    def back(self) -> str:
        if self.step:
            return f"{_base(self.template_id)}/steps/{self.step.id}"
        return _base(self.template_id)


async def _place(
    db: Db, actor: Actor, template_id: str, step_id: str | None, field_id: str
) -> tuple[steps.Outline, FieldPlace]:
    outline = await steps.outline(db, actor, template_id)
    step = _step_of(outline, step_id) if step_id else None
    pool = outline.captures.get(step.id, []) if step else outline.prerun
    capture = next((c for c in pool if c.id == field_id), None)
    if capture is None:
        raise not_found()
    return outline, FieldPlace(template_id, step, capture)


async def _field_html(
    request: Request,
    db: Db,
    actor: Actor,
    template_id: str,
    step_id: str | None,
    field_id: str,
    state: FormState,
) -> Response:
    outline, place = await _place(db, actor, template_id, step_id, field_id)
    require_not_light(actor)
    status = state.refusal.status if state.refusal else 200
    return render(
        request,
        "template_field.html",
        status=status,
        title=f"Form field: {place.capture.label}",
        outline=outline,
        place=place,
        field_types=tf.FIELD_TYPES,
        state=state,
        base=_base(template_id),
    )


async def _save_field(
    request: Request, db: Db, actor: Actor, template_id: str, step_id: str | None, field_id: str
) -> Response:
    form = await form_of(request)
    _, place = await _place(db, actor, template_id, step_id, field_id)
    try:
        body = tf.validated(CaptureCreate, tf.capture_body(form, place.capture))
        if step_id:
            await steps.update_capture(db, actor, template_id, step_id, field_id, body)
        else:
            await steps.update_prerun(db, actor, template_id, field_id, body)
    except AppError as exc:
        if exc.status == 404:
            raise
        await _undo(db, actor)
        state = FormState(
            "field", form, tf.refusal(exc, tf.FIELD_CONTROLS, tf.capture_fallback(form))
        )
        return await _field_html(request, db, actor, template_id, step_id, field_id, state)
    return redirect(f"{place.back}?notice=field-saved")


@router.get("/{template_id}/steps/{step_id}/fields/{field_id}")
async def step_field_page(
    request: Request, db: Db, page: Member, template_id: str, step_id: str, field_id: str
) -> Response:
    return await _field_html(request, db, page.actor, template_id, step_id, field_id, FormState())


@router.post("/{template_id}/steps/{step_id}/fields/{field_id}")
async def save_step_field(
    request: Request, db: Db, page: Member, template_id: str, step_id: str, field_id: str
) -> Response:
    return await _save_field(request, db, page.actor, template_id, step_id, field_id)


@router.post("/{template_id}/kickoff")
async def add_kickoff_field(request: Request, db: Db, page: Member, template_id: str) -> Response:
    form = await form_of(request)
    try:
        body = tf.validated(CaptureCreate, tf.capture_body(form))
        await steps.create_prerun(db, page.actor, template_id, body)
    except AppError as exc:
        return await _template_refused(
            request,
            db,
            page.actor,
            template_id,
            exc,
            "kickoff-new",
            form,
            tf.FIELD_CONTROLS,
            tf.capture_fallback(form),
        )
    return redirect(f"{_base(template_id)}?notice=field-added#kickoff")


@router.get("/{template_id}/kickoff/{field_id}")
async def kickoff_field_page(
    request: Request, db: Db, page: Member, template_id: str, field_id: str
) -> Response:
    return await _field_html(request, db, page.actor, template_id, None, field_id, FormState())


@router.post("/{template_id}/kickoff/{field_id}")
async def save_kickoff_field(
    request: Request, db: Db, page: Member, template_id: str, field_id: str
) -> Response:
    return await _save_field(request, db, page.actor, template_id, None, field_id)


@router.post("/{template_id}/kickoff/{field_id}/remove")
async def remove_kickoff_field(
    request: Request, db: Db, page: Member, template_id: str, field_id: str
) -> Response:
    form = await form_of(request)
    try:
        await steps.delete_prerun(db, page.actor, template_id, field_id)
    except AppError as exc:
        return await _template_refused(
            request, db, page.actor, template_id, exc, "kickoff", form, set()
        )
    return redirect(f"{_base(template_id)}?notice=field-removed#kickoff")
