"""Public kick-off forms: a template's kick-off form anyone with the link can submit, without
signing in; submitting launches a process (runs/public.py). Submissions are counted per
client address and organization."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from checkrun.kit.auth import Db
from checkrun.kit.errors import AppError
from checkrun.kit.ratelimit import limiter_of
from checkrun.kit.unit_of_work import UnitOfWorkRoute, run_before_commit
from checkrun.kit.urls import api_base
from checkrun.runs import public
from checkrun.tasks.schemas import EMAIL_PATTERN
from checkrun.templates.models import Capture, Checklist
from checkrun.web.forms import field_errors, taskdata_from
from checkrun.web.http import PREFIX, form_of, plain, render

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX + "/public", include_in_schema=False)
PAGE = "/library/{org_id}/blueprint/{template_id}/kick-off"
FIX_FIELDS = "Please correct the fields marked below."


@dataclass
class KickoffForm:
    """What `_kickoff_fields.html` draws; nobody signed in picks members (`members` empty)."""

    checklist: Checklist
    fields: list[Capture]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    members: list[tuple[int, str]] = field(default_factory=list)


def _html(
    request: Request,
    form: KickoffForm,
    status: int = 200,
    email: str = "",
    email_error: str | None = None,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "public_kickoff.html",
        status=status,
        title=form.checklist.title,
        form=form,
        email=email,
        email_error=email_error,
        error=error,
        action=public.link(form.checklist.org_id, form.checklist.id),
    )


@router.get(PAGE)
async def kickoff_page(request: Request, db: Db, org_id: str, template_id: str) -> Response:
    checklist, fields, _ = await public.public_form(db, org_id, template_id)
    return _html(request, KickoffForm(checklist, fields))


async def _over_limit(request: Request, org_id: str) -> Response | None:
    address = request.client.host if request.client else "unknown"
    decision = await limiter_of(request).hit(
        f"hourly:public-kickoff:{org_id}:{address}", public.LAUNCHES_PER_HOUR, 3600
    )
    if decision.allowed:
        return None
    return plain(
        request,
        429,
        "Too many requests",
        "This form was submitted too many times from your address. Please try again later.",
        headers={"Retry-After": str(decision.retry_after)},
    )


def _email_error(email: str) -> str | None:
    if len(email) <= 254 and re.match(EMAIL_PATTERN, email):
        return None
    return "Enter a valid email address."


@router.post(PAGE)
async def kickoff_submit(request: Request, db: Db, org_id: str, template_id: str) -> Response:
    checklist, fields, _ = await public.public_form(db, org_id, template_id)
    refused = await _over_limit(request, org_id)
    if refused is not None:
        return refused
    posted = await form_of(request)
    email = str(posted.get("email", "")).strip().lower()
    values = taskdata_from(fields, posted)
    if error := _email_error(email):
        form = KickoffForm(checklist, fields, values)
        return _html(request, form, 422, email, email_error=error, error=FIX_FIELDS)
    prerun = {k: v for k, v in values.items() if v is not None}
    try:
        await public.launch_public(db, org_id, template_id, email, prerun, api_base(request))
        await run_before_commit(request, db)  # the invite cap's 429 is drawn on this form
    except AppError as exc:
        await db.rollback()
        if exc.status in (403, 404):
            raise
        # Read again: the rollback expired what the session held.
        checklist, fields, _ = await public.public_form(db, org_id, template_id)
        errors = field_errors(exc.errors or {}, "prerun.")
        form = KickoffForm(checklist, fields, values, errors)
        general = FIX_FIELDS if errors else exc.message
        return _html(request, form, exc.status, email, error=general)
    return plain(
        request,
        200,
        "Thank you",
        f"Your answers to “{checklist.title}” were received: the work has started.",
    )
