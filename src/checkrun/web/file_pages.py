"""A task's files in the web app: attaching one (streamed into the store by the files
service, as the API's upload) and serving them with the API's own headers, on the session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from checkrun.files import service as files
from checkrun.files.multipart import MalformedUpload, MultipartUpload
from checkrun.files.routes import serve_asset
from checkrun.kit.auth import Db
from checkrun.kit.errors import AppError
from checkrun.kit.unit_of_work import UnitOfWorkRoute, writes_on_get
from checkrun.storage import Store
from checkrun.web import pages, views
from checkrun.web.http import CSRF_FIELD, PREFIX, CsrfRefused, csrf_token, redirect
from checkrun.web.pages import Member

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX, include_in_schema=False)
FILE_FIELD = "file"


class TaskUpload(MultipartUpload):
    """The browser's form: the CSRF token must come before the file (it does: the form puts
    it first), so a forged form stores nothing; the subject is the page's task, whatever the
    form says."""

    def __init__(self, request: Request, task_id: str) -> None:
        super().__init__(request.stream(), request.headers.get("content-type", ""), FILE_FIELD)
        self._expected = csrf_token(request)
        self._task_id = task_id

    async def until_file(self) -> str | None:
        filename = await super().until_file()
        if self.fields.get(CSRF_FIELD) != self._expected:
            raise CsrfRefused()
        self.fields.update(subject_type="Task", subject_id=self._task_id)
        for name in ("step_id", "checklist_id"):
            self.fields.pop(name, None)
        return filename


def _message(exc: AppError) -> str:
    if exc.status == 422 and exc.errors and "name" in exc.errors:
        found = exc.errors["name"][0]
        return "Choose a file first." if "required" in found else found
    return exc.message


@router.post("/tasks/{task_id}/files")
async def attach(request: Request, db: Db, store: Store, page: Member, task_id: str) -> Response:
    task = await views.task_for(db, page.actor, task_id)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return await _again(request, db, page, task_id, 400, "Send the form with its file.")
    try:
        reader = TaskUpload(request, task.id)
        await files.upload(
            db, store, page.actor, reader, request.app.state.settings.max_upload_bytes
        )
    except (MalformedUpload, ClientDisconnect):
        await db.rollback()
        return await _again(
            request, db, page, task_id, 400, "The upload was cut off before the file was complete."
        )
    except AppError as exc:
        await db.rollback()
        return await _again(request, db, page, task_id, exc.status, _message(exc))
    return redirect(f"{PREFIX}/tasks/{task_id}?notice=uploaded")


async def _again(
    request: Request, db: Db, page: pages.Page, task_id: str, status: int, error: str
) -> Response:
    task = await views.task_for(db, page.actor, task_id)
    view = await views.build_task_view(db, task, for_guest=False)
    await views.member_choices(db, page.actor, view)
    await views.task_extras(db, page.actor, view)
    return pages._task_html(request, page, view, status, error=error)


@router.get("/files/{asset_id}")
@writes_on_get  # its "File downloaded" activity entry
async def download(request: Request, db: Db, store: Store, page: Member, asset_id: str) -> Response:
    return await serve_asset(request, db, store, page.actor, asset_id, download=True)


@router.get("/files/{asset_id}/view")
async def view(request: Request, db: Db, store: Store, page: Member, asset_id: str) -> Response:
    return await serve_asset(request, db, store, page.actor, asset_id, download=False)
