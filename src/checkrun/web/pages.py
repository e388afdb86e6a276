"""The signed-in member's pages: sign-in and out, organization choice, My tasks, a task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from checkrun.files import service as files
from checkrun.kit.auth import Actor, Db
from checkrun.kit.errors import AppError
from checkrun.kit.logs import note_actor
from checkrun.kit.ratelimit import limiter_of
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.storage import Store
from checkrun.web import auth, task_files, views
from checkrun.web.forms import field_errors
from checkrun.web.http import (
    PREFIX,
    SESSION_COOKIE,
    SignInRequired,
    clear_cookie,
    form_of,
    plain,
    redirect,
    render,
    safe_next,
    set_cookie,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX, include_in_schema=False)
NOTICES = {
    "saved": "Your changes were saved.",
    "completed": "Task completed.",
    "approved": "Task approved.",
    "rejected": "Task rejected.",
    "reopened": "Task reopened.",
    "commented": "Comment posted.",
    "archived": "Task archived.",
    "problem": "Problem reported.",
    "resolved": "Problem resolved.",
    "uploaded": "File attached.",
    "created": "Task created.",
}
IP_FACTOR = 5
SIGN_IN_WINDOW = 900  # seconds
FAILED_SIGN_IN = "The email or password is incorrect."


@dataclass(frozen=True)
class Page:
    session: auth.WebSession
    actor: Actor


async def current_session(request: Request, db: Db) -> auth.WebSession | None:
    raw = request.cookies.get(SESSION_COOKIE, "")
    session = await auth.session_of(db, raw)
    if session is not None:
        request.state.session_valid = True
        request.state.session_secret = raw
        request.state.web_user = session.user
        note_actor(request.scope, session.user.id, session.org_id)
    return session


async def member_page(request: Request, db: Db) -> Page:
    session = await current_session(request, db)
    if session is None:
        raise SignInRequired()
    names = await views.org_names(db, [session.org_id])
    request.state.web_org_name = names.get(session.org_id)
    actor = await auth.actor_of(db, session)
    request.state.web_is_admin = actor.is_admin
    request.state.web_light = actor.is_light
    return Page(session, actor)


Member = Annotated[Page, Depends(member_page)]


def _sign_in_keys(request: Request, email: str | None) -> list[tuple[str, int]]:
    """Failed sign-ins per email, and five times as many per client address (an office behind
    one address), in 15-minute windows."""
    limit = request.app.state.settings.web_sign_in_attempts
    client = request.client.host if request.client else "unknown"
    keys = [(f"web-sign-in:ip:{client}", limit * IP_FACTOR)]
    if email is not None:
        keys.insert(0, (f"web-sign-in:email:{email.strip().lower()}", limit))
    return keys


async def _too_many(request: Request, email: str | None) -> Response | None:
    """Refused once the failures of a window reached their limit (a right password too: else
    a guesser would learn which guess was right)."""
    for key, most in _sign_in_keys(request, email):
        decision = await limiter_of(request).hit(key, most, SIGN_IN_WINDOW, cost=0)
        if decision.remaining == 0:
            return plain(
                request,
                429,
                "Too many sign-in attempts",
                f"Please wait {decision.retry_after} seconds and try again.",
                {"Retry-After": str(decision.retry_after)},
            )
    return None


async def _failed(request: Request, email: str | None) -> None:
    for key, most in _sign_in_keys(request, email):
        await limiter_of(request).hit(key, most, SIGN_IN_WINDOW)


@router.get("/")
async def home(request: Request, db: Db) -> Response:
    if await current_session(request, db) is None:
        return redirect(PREFIX + "/sign-in")
    return redirect(PREFIX + "/tasks")


@router.get("/sign-in")
async def sign_in_form(request: Request, db: Db, next: str | None = None) -> Response:
    if await current_session(request, db) is not None:
        return redirect(safe_next(next))
    return render(
        request, "sign_in.html", title="Sign in", next=safe_next(next), email="", error=None
    )


async def _signed_in(
    request: Request, db: Db, user: Any, org_id: str | None, next_page: str
) -> Response:
    settings = request.app.state.settings
    raw = await auth.start_session(db, user, settings.web_session_seconds, org_id)
    several = len(await auth.organizations(db, user.id)) > 1
    target = f"{PREFIX}/orgs?next={next_page}" if several and org_id is None else next_page
    response = redirect(target)
    set_cookie(request, response, SESSION_COOKIE, raw, settings.web_session_seconds)
    return response


@router.post("/sign-in")
async def sign_in(request: Request, db: Db) -> Response:
    form = await form_of(request)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    next_page = safe_next(str(form.get("next", "")))
    refused = await _too_many(request, email)
    if refused is not None:
        return refused
    user = await auth.check_password(db, email, password) if email and password else None
    if user is None:
        await _failed(request, email)
        return render(
            request,
            "sign_in.html",
            status=401,
            title="Sign in",
            next=next_page,
            email=email,
            error=FAILED_SIGN_IN,
        )
    return await _signed_in(request, db, user, None, next_page)


@router.get("/sign-in/link/{token}")
async def sign_in_link(request: Request, db: Db, token: str) -> Response:
    if not await auth.link_is_live(db, token):
        return _dead_link(request)
    return render(request, "sign_in_link.html", title="Sign in", token=token)


def _dead_link(request: Request) -> Response:
    return plain(
        request,
        404,
        "Sign-in link not valid",
        "This sign-in link has expired or was already used. Ask for a new one, or "
        "sign in with your email and password.",
    )


@router.post("/sign-in/link/{token}")
async def use_sign_in_link(request: Request, db: Db, token: str) -> Response:
    await form_of(request)
    refused = await _too_many(request, None)
    if refused is not None:
        return refused
    found = await auth.redeem_sign_in_link(db, token)
    if found is None:
        await _failed(request, None)
        return _dead_link(request)
    user, org_id = found
    return await _signed_in(request, db, user, org_id, PREFIX + "/tasks")


@router.post("/sign-out")
async def sign_out(request: Request, db: Db) -> Response:
    session = await current_session(request, db)
    await form_of(request)
    if session is not None:
        await auth.end_session(db, session)
    response = redirect(PREFIX + "/sign-in")
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.get("/orgs")
async def choose_org(request: Request, db: Db, next: str | None = None) -> Response:
    session = await current_session(request, db)
    if session is None:
        raise SignInRequired()
    memberships = await auth.organizations(db, session.user.id)
    names = await views.org_names(db, [m.org_id for m in memberships])
    choices = [(m.org_id, names.get(m.org_id, m.org_id), m.role) for m in memberships]
    return render(
        request,
        "orgs.html",
        title="Choose an organization",
        choices=choices,
        current=session.org_id,
        next=safe_next(next),
    )


@router.post("/orgs")
async def pick_org(request: Request, db: Db) -> Response:
    session = await current_session(request, db)
    if session is None:
        raise SignInRequired()
    form = await form_of(request)
    await auth.switch_org(db, session, str(form.get("org_id", "")))
    return redirect(safe_next(str(form.get("next", ""))))


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


@router.get("/tasks")
async def my_tasks(
    request: Request,
    db: Db,
    page: Member,
    section: str | None = None,
    q: str | None = None,
    p: str | None = None,
) -> Response:
    query = (q or "").strip()[:200]
    box = await views.inbox(db, page.actor, section, query, _page_number(p))
    return render(request, "inbox.html", title="My tasks", box=box, sections=views.SECTIONS)


@router.get("/tasks/{task_id}")
async def task_page(
    request: Request, db: Db, page: Member, task_id: str, notice: str | None = None
) -> Response:
    task = await views.task_for(db, page.actor, task_id)
    view = await views.build_task_view(db, task, for_guest=False)
    await views.member_choices(db, page.actor, view)
    await views.task_extras(db, page.actor, view)
    return _task_html(request, page, view, notice=NOTICES.get(notice or ""))


def _task_html(
    request: Request,
    page: Page,
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
        actor=page.actor,
        notice=notice,
        error=error,
        comment_error=comment_error,
        action_url=f"{PREFIX}/tasks/{view.task.id}",
        guest=False,
    )


ACTIONS = (
    "save",
    "complete",
    "approve",
    "reject",
    "reopen",
    "comment",
    "archive",
    "problem",
    "resolve",
)
# Actions whose text is the comment box's: an empty one is refused before the services.
TEXT_ACTIONS = ("comment", "problem")


@router.post("/tasks/{task_id}")
async def task_action(
    request: Request, db: Db, store: Store, page: Member, task_id: str
) -> Response:
    task = await views.task_for(db, page.actor, task_id)
    try:
        form = await task_files.read_task_form(
            request, db, store, files.member_uploader(page.actor), task
        )
    except task_files.UploadRefused as exc:
        return await _refused(request, db, page, task_id, exc, exc.form, "save")
    action = str(form.get("action", ""))
    if action not in ACTIONS:
        return plain(request, 400, "Unknown action", "This form asked for nothing we know.")
    if action in TEXT_ACTIONS:
        content = str(form.get("content", "")).strip()
        if not content:
            view = await views.build_task_view(db, task, for_guest=False)
            await views.task_extras(db, page.actor, view)
            return _task_html(request, page, view, 422, comment_error="Write a comment first.")
    try:
        notice = await _act(request, db, page.actor, task, action, form)
    except AppError as exc:
        await db.rollback()
        return await _refused(request, db, page, task_id, exc, form, action)
    return redirect(f"{PREFIX}/tasks/{task_id}?notice={notice}")


async def _act(
    request: Request, db: Db, actor: Actor, task: Any, action: str, form: dict[str, Any]
) -> str:
    if action == "comment":
        await views.comment(
            db,
            actor,
            task,
            str(form.get("content", "")).strip(),
            show_guests=form.get("show_guests") == "on",
        )
        return "commented"
    if action == "problem":
        await views.report_problem(db, actor, task, str(form.get("content", "")).strip())
        return "problem"
    if action == "resolve":
        await views.resolve_problem(
            db, actor, task, str(form.get("thread_id", "")), str(form.get("resolution", "")).strip()
        )
        return "resolved"
    if action == "reopen":
        await views.reopen(db, actor, task)
        return "reopened"
    if action == "archive":
        await views.archive(db, actor, task)
        return "archived"
    await views.save_values(db, actor, task, form, api_base(request))
    if action == "save":
        return "saved"
    approved = {"approve": True, "reject": False}.get(action)
    await views.complete(db, actor, task, approved)
    return {"approve": "approved", "reject": "rejected"}.get(action, "completed")


async def _refused(
    request: Request,
    db: Db,
    page: Page,
    task_id: str,
    exc: AppError,
    form: dict[str, Any],
    action: str,
) -> Response:
    """The task page again with the service's refusal: field errors at their fields, the
    values just typed kept."""
    task = await views.task_for(db, page.actor, task_id)
    errors = field_errors(exc.errors or {}) if exc.status == 422 else {}
    posted = form if action not in (*TEXT_ACTIONS, "resolve") else None
    view = await views.build_task_view(db, task, for_guest=False, errors=errors, posted=posted)
    await views.member_choices(db, page.actor, view)
    await views.task_extras(db, page.actor, view)
    at_fields = [f for f in view.fields if f.error]
    general = None if at_fields and len(at_fields) == len(errors) else exc.message
    if action in TEXT_ACTIONS:
        return _task_html(request, page, view, exc.status, comment_error=exc.message)
    if action == "resolve":
        return _task_html(request, page, view, exc.status, error=exc.message)
    return _task_html(
        request, page, view, exc.status, error=general or "Please correct the fields marked below."
    )
