"""Email preferences: the page behind every email's footer link (no sign-in: the link's token
says whose choices they are), its RFC 8058 one-click unsubscribe, and the same choices for a
signed-in member at /app/settings/email."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from checkrun.kit.auth import Db
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.mail import kinds, prefs
from checkrun.mail.repository import MailRepository
from checkrun.web import views
from checkrun.web.http import CSRF_FIELD, PREFIX, form_of, plain, redirect, render
from checkrun.web.pages import Member, Page

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX, include_in_schema=False)
LINK_PAGE = "/email-preferences/{token}"
SETTINGS_PAGE = "/settings/email"
TOKEN_CHARS = 64
# RFC 8058: a mail client's one-click POST carries exactly this pair and no cookie.
ONE_CLICK_KEY, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"

LABELS = {
    kinds.TASK_ASSIGNED: "A task is assigned to me",
    kinds.COMMENT: "A comment mentions me or is posted on my task",
    kinds.ISSUE: "A problem is reported on my task, or resolved",
    kinds.DUE_SOON: "A task of mine is due soon",
    kinds.OVERDUE: "A task of mine is overdue",
    kinds.PROCESS_COMPLETED: "A process I started is complete",
    kinds.DAILY_DIGEST: "Daily digest",
}
MODE_LABELS = {"instant": "Right away", "digest": "In my daily digest", "off": "Off"}
DIGEST_LABELS = {"digest": "On: one email a day", "off": "Off"}
NOTICES = {
    "saved": "Your choices were saved.",
    "off": "You will get no more email from checkrun for this organization, except "
    "invitations and password resets you ask for.",
}


@dataclass(frozen=True)
class Owner:
    """Whose choices a page shows: one address in one organization."""

    org_id: str
    email: str


class Refused(ValueError):
    """A posted choice that is not one (an unknown kind or mode)."""


def modes_of_kind(kind: str) -> tuple[str, ...]:
    return ("digest", "off") if kind == kinds.DAILY_DIGEST else kinds.MODES


def choices_from(form: dict[str, Any]) -> dict[str, str]:
    """The posted kinds and modes, checked. Choosing the digest for any kind turns the daily
    digest on: otherwise what was gathered for it would never be sent."""
    chosen: dict[str, str] = {}
    for key, value in form.items():
        if key in (CSRF_FIELD, "action"):
            continue
        if key not in kinds.CHOOSABLE:
            raise Refused(f"There is no kind of email called {key[:40]!r}.")
        if not isinstance(value, str) or value not in modes_of_kind(key):
            raise Refused(f"{LABELS[key]}: choose one of {', '.join(modes_of_kind(key))}.")
        chosen[key] = value
    if any(mode == "digest" for kind, mode in chosen.items() if kind != kinds.DAILY_DIGEST):
        chosen[kinds.DAILY_DIGEST] = "digest"
    return chosen


def all_off() -> dict[str, str]:
    return dict.fromkeys(kinds.CHOOSABLE, "off")


async def _owner_of(db: Db, token: str) -> Owner | None:
    link = await MailRepository(db).link_owner(token) if len(token) <= TOKEN_CHARS else None
    return Owner(link.org_id, link.email) if link is not None else None


def _unknown_link(request: Request) -> Response:
    return plain(
        request,
        404,
        "Link not found",
        "This email preferences link is not valid. Use the link at the bottom of "
        "your latest email from checkrun, or sign in and open Email settings.",
    )


async def _page(
    request: Request,
    db: Db,
    owner: Owner,
    action: str,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    shown: dict[str, str] | None = None,
) -> Response:
    names = await views.org_names(db, [owner.org_id])
    response = render(
        request,
        "email_preferences.html",
        status=status,
        title="Email preferences",
        action=action,
        email=owner.email,
        for_org=names.get(owner.org_id, ""),
        modes=shown or await prefs.modes_of(db, owner.org_id, owner.email),
        kinds=kinds.CHOOSABLE,
        labels=LABELS,
        digest_kind=kinds.DAILY_DIGEST,
        mode_labels=MODE_LABELS,
        digest_labels=DIGEST_LABELS,
        notice=notice,
        error=error,
        mail_on=request.app.state.settings.mail_enabled,
    )
    # The token is in the address: never hand it to another site as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _save(
    request: Request, db: Db, owner: Owner, form: dict[str, Any], action: str
) -> Response:
    turn_off = form.get("action") == "off"
    try:
        chosen = all_off() if turn_off else choices_from(form)
    except Refused as exc:
        current = await prefs.modes_of(db, owner.org_id, owner.email)
        typed = {k: v for k, v in form.items() if k in current and isinstance(v, str)}
        return await _page(
            request, db, owner, action, 422, error=str(exc), shown={**current, **typed}
        )
    await prefs.set_modes(db, owner.org_id, owner.email, chosen)
    return redirect(f"{action}?notice={'off' if turn_off else 'saved'}")


# --- the footer link's page (no sign-in) -------------------------------------------------------


@router.get(LINK_PAGE)
async def link_page(request: Request, db: Db, token: str, notice: str | None = None) -> Response:
    owner = await _owner_of(db, token)
    if owner is None:
        return _unknown_link(request)
    return await _page(
        request, db, owner, PREFIX + LINK_PAGE.format(token=token), notice=NOTICES.get(notice or "")
    )


@router.post(LINK_PAGE)
async def link_save(request: Request, db: Db, token: str) -> Response:
    owner = await _owner_of(db, token)
    if owner is None:
        return _unknown_link(request)
    raw = await request.form()
    if raw.get(ONE_CLICK_KEY) == ONE_CLICK_VALUE:
        # A mail client's unsubscribe: no CSRF token (nor cookie) comes with it; the secret
        # link is the authority, and it can only turn email off.
        await prefs.set_modes(db, owner.org_id, owner.email, all_off())
        return plain(request, 200, "Unsubscribed", NOTICES["off"])
    form = await form_of(request)
    return await _save(request, db, owner, form, PREFIX + LINK_PAGE.format(token=token))


# --- the signed-in member's settings -------------------------------------------------------------


def _member_owner(page: Page) -> Owner:
    return Owner(page.session.org_id, page.session.user.email)


@router.get(SETTINGS_PAGE)
async def settings_page(
    request: Request, db: Db, page: Member, notice: str | None = None
) -> Response:
    return await _page(
        request, db, _member_owner(page), PREFIX + SETTINGS_PAGE, notice=NOTICES.get(notice or "")
    )


@router.post(SETTINGS_PAGE)
async def settings_save(request: Request, db: Db, page: Member) -> Response:
    form = await form_of(request)
    return await _save(request, db, _member_owner(page), form, PREFIX + SETTINGS_PAGE)
