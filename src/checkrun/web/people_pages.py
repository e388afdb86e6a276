"""People in the web app: administrators manage members (invite with a one-time "choose your
password" link, role, disable / enable), guests and groups through the API's services; anyone
can choose a password from such a link or ask for a reset."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from checkrun.groups import service as groups
from checkrun.groups.schemas import GroupCreate, GroupUpdate
from checkrun.guests import service as guests
from checkrun.guests.repository import GuestFilters
from checkrun.guests.schemas import GuestCreate, guest_link
from checkrun.kit.auth import Db, require_admin
from checkrun.kit.errors import AppError
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.kit.ratelimit import limiter_of
from checkrun.kit.unit_of_work import UnitOfWorkRoute, run_before_commit
from checkrun.kit.urls import api_base
from checkrun.members import service as members
from checkrun.members.models import ROLES
from checkrun.members.schemas import InviteUser
from checkrun.web import auth, pages
from checkrun.web.forms import field_errors
from checkrun.web.http import PREFIX, form_of, plain, redirect, render
from checkrun.web.pages import Page, current_session, member_page
from checkrun.web.views import checked

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX, include_in_schema=False)
PEOPLE = "/people"
PER_PAGE = 100
NOTICES = {
    "role": "Role changed.",
    "disabled": "Member disabled.",
    "enabled": "Member enabled.",
    "guest-added": "Guest added.",
    "guest-disabled": "Guest disabled.",
    "guest-enabled": "Guest enabled.",
    "guest-removed": "Guest removed.",
    "group-created": "Group created.",
    "group-saved": "Group saved.",
    "group-deleted": "Group deleted.",
}
FORGOT_SENT = (
    "If this address belongs to a member, a link to choose a new password has been "
    "recorded. Email delivery is not set up yet: ask an administrator of your "
    "organization for the link."
)
FORGOT_EMAILED = (
    "If this address belongs to a member, we have emailed it a link to choose a "
    "new password. Check your inbox (and spam folder); the link expires in "
    f"{auth.RESET_LINK_SECONDS // 60} minutes."
)
FORGOT_PER_WINDOW = 5


async def admin_page(request: Request, db: Db) -> Page:
    """Only administrators see these pages (403 page otherwise); the services check again."""
    page = await member_page(request, db)
    require_admin(page.actor)
    return page


Admin = Annotated[Page, Depends(admin_page)]


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _back(path: str, notice: str) -> Response:
    return redirect(f"{PREFIX}{path}?notice={notice}")


# --- members -----------------------------------------------------------------------------------


async def _members_html(
    request: Request,
    db: Db,
    page: Page,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    q: str = "",
    p: int = 1,
) -> Response:
    found, total = await members.list_members(
        db, page.actor, PageParams(p, PER_PAGE), q or None, "id", Includes()
    )
    pages_count = max(1, -(-total // PER_PAGE))
    return render(
        request,
        "people.html",
        status=status,
        title="People",
        people=found,
        roles=ROLES,
        notice=notice,
        error=error,
        errors=errors or {},
        typed=typed or {},
        me=page.actor.user_id,
        q=q,
        page=p,
        pages=pages_count,
    )


@router.get(PEOPLE)
async def people(
    request: Request,
    db: Db,
    page: Admin,
    notice: str | None = None,
    q: str | None = None,
    p: str | None = None,
) -> Response:
    return await _members_html(
        request, db, page, notice=NOTICES.get(notice or ""), q=(q or "").strip()[:200], p=_number(p)
    )


@router.post(PEOPLE + "/invite")
async def invite(request: Request, db: Db, page: Admin) -> Response:
    form = await form_of(request)
    typed = {k: _text(form, k) for k in ("email", "first_name", "last_name", "role")}
    try:
        body = checked(InviteUser, **typed)
        user, membership = await members.invite(db, page.actor, body)
        # With email configured the invitation (and its link) was emailed as it was made.
        raw = (
            None
            if auth.emails_links(db)
            else await auth.issue_password_link(
                db, user, page.actor.org_id, auth.INVITE_LINK_SECONDS
            )
        )
    except AppError as exc:
        await db.rollback()
        errors = field_errors(exc.errors or {}, prefix="") if exc.status == 422 else {}
        return await _members_html(
            request, db, page, exc.status, error=exc.message, errors=errors, typed=typed
        )
    return _link_html(request, user.email, raw, invited=True)


def _link_html(request: Request, email: str, raw: str | None, invited: bool) -> Response:
    """The link to hand out, or (raw None) the news that it was emailed."""
    site = api_base(request).rstrip("/").removesuffix("/api")
    title = ("Invitation sent" if raw is None else "Invite link") if invited else "Reset link"
    return render(
        request,
        "people_link.html",
        title=title,
        email=email,
        link=f"{site}{PREFIX}/password/{raw}" if raw else None,
        invited=invited,
        days=auth.INVITE_LINK_SECONDS // 86400,
        minutes=auth.RESET_LINK_SECONDS // 60,
    )


@router.post(PEOPLE + "/members/{user_id}/link")
async def password_link(request: Request, db: Db, page: Admin, user_id: str) -> Response:
    """A fresh invite link for an invited member, else a password reset link (the older
    links stop working)."""
    await form_of(request)
    user, membership = await members.member_of(db, page.actor, user_id)
    if membership.status == "disabled" or membership.is_bot:
        return plain(
            request,
            409,
            "No link for this member",
            "A disabled member or a bot can't sign in. Enable the member first.",
        )
    invited = membership.status == "invited"
    ttl = auth.INVITE_LINK_SECONDS if invited else auth.RESET_LINK_SECONDS
    raw = await auth.issue_password_link(db, user, page.actor.org_id, ttl)
    return _link_html(request, user.email, raw, invited)


MEMBER_ACTIONS = ("role", "disable", "enable")


@router.post(PEOPLE + "/members/{user_id}")
async def member_action(request: Request, db: Db, page: Admin, user_id: str) -> Response:
    form = await form_of(request)
    action = _text(form, "action")
    if action not in MEMBER_ACTIONS:
        return plain(request, 400, "Unknown action", "This form asked for nothing we know.")
    try:
        if action == "role":
            role = _text(form, "role")
            if role not in ROLES:
                return plain(request, 422, "Unknown role", "Choose admin, standard or light.")
            await members.change_role(db, page.actor, user_id, role)
            notice = "role"
        elif action == "disable":
            await members.disable(db, page.actor, user_id)
            notice = "disabled"
        else:
            await members.enable(db, page.actor, user_id)
            notice = "enabled"
    except AppError as exc:
        if exc.status == 404:
            raise
        await db.rollback()
        return await _members_html(request, db, page, exc.status, error=exc.message)
    return _back(PEOPLE, notice)


# --- guests ------------------------------------------------------------------------------------


async def _guests_html(
    request: Request,
    db: Db,
    page: Page,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    found, _ = await guests.list_guests(db, page.actor, PageParams(1, 999), GuestFilters())
    base = api_base(request)
    rows = [(g, guest_link(base, g)) for g in found]
    return render(
        request,
        "guests.html",
        status=status,
        title="Guests",
        guests=rows,
        notice=notice,
        error=error,
        typed=typed or {},
    )


@router.get(PEOPLE + "/guests")
async def guest_list(request: Request, db: Db, page: Admin, notice: str | None = None) -> Response:
    return await _guests_html(request, db, page, notice=NOTICES.get(notice or ""))


@router.post(PEOPLE + "/guests")
async def add_guest(request: Request, db: Db, page: Admin) -> Response:
    form = await form_of(request)
    typed = {k: _text(form, k) for k in ("email", "first_name", "last_name")}
    try:
        body = checked(GuestCreate, **{k: v or None for k, v in typed.items()})
        await guests.create_guest(db, page.actor, body)
        await run_before_commit(request, db)  # the invite cap's 429 is drawn on this form
    except AppError as exc:
        await db.rollback()
        return await _guests_html(request, db, page, exc.status, error=exc.message, typed=typed)
    return _back(PEOPLE + "/guests", "guest-added")


GUEST_ACTIONS = ("disable", "enable", "remove")


@router.post(PEOPLE + "/guests/change")
async def change_guest(request: Request, db: Db, page: Admin) -> Response:
    form = await form_of(request)
    action, email = _text(form, "action"), _text(form, "email")
    if action not in GUEST_ACTIONS:
        return plain(request, 400, "Unknown action", "This form asked for nothing we know.")
    try:
        if action == "remove":
            await guests.remove_guest(db, page.actor, email)
        else:
            await guests.set_disabled(db, page.actor, email, disabled=action == "disable")
    except AppError as exc:
        await db.rollback()
        return await _guests_html(request, db, page, exc.status, error=exc.message)
    notice = {"disable": "guest-disabled", "enable": "guest-enabled"}.get(action, "guest-removed")
    return _back(PEOPLE + "/guests", notice)


# --- groups ------------------------------------------------------------------------------------


async def _everyone(db: Db, page: Page) -> list[tuple[int, str]]:
    found = await members.list_brief(db, page.actor)
    return [(m.id, m.full_name or m.email) for m in found]


async def _groups_html(
    request: Request,
    db: Db,
    page: Page,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    found, _ = await groups.list_groups(db, page.actor, PageParams(1, 500), None, "name")
    names = dict(await _everyone(db, page))
    rows = [(g, [names.get(m.user_id, f"Member {m.user_id}") for m in g.members]) for g in found]
    return render(
        request,
        "groups.html",
        status=status,
        title="Groups",
        groups=rows,
        everyone=list(names.items()),
        notice=notice,
        error=error,
        typed=typed or {},
    )


@router.get(PEOPLE + "/groups")
async def group_list(request: Request, db: Db, page: Admin, notice: str | None = None) -> Response:
    return await _groups_html(request, db, page, notice=NOTICES.get(notice or ""))


def _member_ids(form: dict[str, Any]) -> list[int]:
    values = form.get("members", [])
    items = values if isinstance(values, list) else [values]
    return [int(v) for v in items if isinstance(v, str) and v.isdigit() and len(v) <= 10]


@router.post(PEOPLE + "/groups")
async def create_group(request: Request, db: Db, page: Admin) -> Response:
    form = await form_of(request)
    name = _text(form, "name")
    try:
        body = checked(GroupCreate, name=name, members=_member_ids(form))
        await groups.create_group(db, page.actor, body)
    except AppError as exc:
        await db.rollback()
        return await _groups_html(
            request, db, page, exc.status, error=exc.message, typed={"name": name}
        )
    return _back(PEOPLE + "/groups", "group-created")


async def _group_html(
    request: Request,
    db: Db,
    page: Page,
    group_id: str,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    group = await groups.get_group(db, page.actor, group_id)
    chosen = {m.user_id for m in group.members}
    return render(
        request,
        "group.html",
        status=status,
        title=group.name,
        group=group,
        everyone=await _everyone(db, page),
        chosen=chosen,
        notice=notice,
        error=error,
    )


@router.get(PEOPLE + "/groups/{group_id}")
async def group_page(
    request: Request, db: Db, page: Admin, group_id: str, notice: str | None = None
) -> Response:
    return await _group_html(request, db, page, group_id, notice=NOTICES.get(notice or ""))


@router.post(PEOPLE + "/groups/{group_id}")
async def change_group(request: Request, db: Db, page: Admin, group_id: str) -> Response:
    form = await form_of(request)
    action = _text(form, "action")
    if action not in ("save", "delete"):
        return plain(request, 400, "Unknown action", "This form asked for nothing we know.")
    try:
        if action == "delete":
            await groups.delete_group(db, page.actor, group_id)
        else:
            body = checked(GroupUpdate, name=_text(form, "name"), members=_member_ids(form))
            await groups.update_group(db, page.actor, group_id, body)
    except AppError as exc:
        if exc.status == 404:
            raise
        await db.rollback()
        return await _group_html(request, db, page, group_id, exc.status, error=exc.message)
    if action == "delete":
        return _back(PEOPLE + "/groups", "group-deleted")
    return _back(f"{PEOPLE}/groups/{group_id}", "group-saved")


# --- choosing a password, forgetting it ---------------------------------------------------------


def _dead_password_link(request: Request) -> Response:
    return plain(
        request,
        404,
        "Link not valid",
        "This link has expired or was already used. Ask an administrator for a new one.",
    )


@router.get("/password/{token}")
async def password_form(request: Request, db: Db, token: str) -> Response:
    if not await auth.password_link_is_live(db, token):
        return _dead_password_link(request)
    return render(request, "password.html", title="Choose your password", token=token, error=None)


@router.post("/password/{token}")
async def choose_password(request: Request, db: Db, token: str) -> Response:
    form = await form_of(request)
    password, again = str(form.get("password", "")), str(form.get("password_again", ""))
    problem = auth.password_problem(password, again)
    if problem is not None:
        if not await auth.password_link_is_live(db, token):
            return _dead_password_link(request)
        return render(
            request,
            "password.html",
            status=422,
            title="Choose your password",
            token=token,
            error=problem,
        )
    found = await auth.choose_password(db, token, password)
    if found is None:
        return _dead_password_link(request)
    user, org_id = found
    return await pages._signed_in(request, db, user, org_id, PREFIX + "/tasks")


@router.get("/forgot-password")
async def forgot_form(request: Request, db: Db) -> Response:
    await current_session(request, db)
    return render(request, "forgot.html", title="Forgot your password", sent=None)


@router.post("/forgot-password")
async def forgot(request: Request, db: Db) -> Response:
    form = await form_of(request)
    email = _text(form, "email")[:254]
    client = request.client.host if request.client else "unknown"
    limit = request.app.state.settings.web_sign_in_attempts
    limiter = limiter_of(request)
    for key, most in (
        (f"web-forgot:email:{email.lower()}", FORGOT_PER_WINDOW),
        (f"web-forgot:ip:{client}", limit * 5),
    ):
        decision = await limiter.hit(key, most, 900)
        if not decision.allowed:
            return plain(
                request,
                429,
                "Too many requests",
                f"Please wait {decision.retry_after} seconds and try again.",
                {"Retry-After": str(decision.retry_after)},
            )
    if email:
        await auth.forgot_password(db, email)
    # The same answer for every address: the page tells nobody who has an account.
    sent = FORGOT_EMAILED if auth.emails_links(db) else FORGOT_SENT
    return render(request, "forgot.html", title="Forgot your password", sent=sent)
