"""File form fields and guests' files in the web app. The task form posts as
multipart/form-data; each file chosen in a file field streams into the store through the files
service while the body arrives (nothing is spooled), then the form's action runs with the
field holding it. Guests attach files to their own task and download its files by their link."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from checkrun.files import service as files
from checkrun.files.multipart import MalformedUpload, MultipartUpload
from checkrun.files.serving import Conditions, serve
from checkrun.guests import work
from checkrun.kit.auth import Db
from checkrun.kit.errors import AppError
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.storage import BlobStore, Store
from checkrun.tasks.models import Task
from checkrun.web import views
from checkrun.web.forms import FIELD_PREFIX, NEW_SUFFIX
from checkrun.web.http import CSRF_FIELD, PREFIX, CsrfRefused, csrf_token, form_of, redirect

router = APIRouter(route_class=UnitOfWorkRoute, prefix=PREFIX + "/guest", include_in_schema=False)
GUEST_FILE = "file"
CUT_OFF = "The upload was cut off before the file was complete."


def _message(exc: AppError) -> str:
    if exc.status == 422 and exc.errors and "name" in exc.errors:
        found = exc.errors["name"][0]
        return "Choose a file first." if "required" in found else found
    return exc.message


class UploadRefused(AppError):
    """The files service refused a file chosen in a file field: shown at that field, with the
    values typed before it kept."""

    def __init__(self, exc: AppError, field_id: str, form: dict[str, Any]) -> None:
        super().__init__(
            exc.status, exc.message, exc.code, errors={f"taskdata.{field_id}": [_message(exc)]}
        )
        self.form = form


class TaskForm(MultipartUpload):
    """The task form read part by part: text fields are collected (repeated names as lists);
    a file chosen in one of the task's file fields is handed to the files service, as the
    task's file, after the CSRF token (which the form sends first) was checked."""

    def __init__(self, request: Request, task_id: str, file_names: set[str]) -> None:
        super().__init__(request.stream(), request.headers.get("content-type", ""), "")
        self.form: dict[str, list[str]] = {}
        self.part = ""
        self._expected = csrf_token(request)
        self._task_id = task_id
        self._file_names = file_names
        self._pending: str | None = None

    async def _read_field(self, name: str) -> None:
        await super()._read_field(name)
        self.form.setdefault(name, []).append(self.fields.pop(name, ""))

    def _check_csrf(self) -> None:
        sent = (self.form.get(CSRF_FIELD) or [""])[0]
        if not hmac.compare_digest(sent, self._expected):
            raise CsrfRefused()

    async def next_file(self) -> str | None:
        """Reads text fields up to the next file chosen in a file field; None at the end."""
        self.fields = {}
        while (event := await self._next_event()) is not None:
            if event[0] != "part":
                continue
            params = event[1]
            name = params.get(b"name", b"").decode("utf-8", "replace")
            if b"filename" not in params:
                await self._read_field(name)
                continue
            self._check_csrf()
            filename: str = params[b"filename"].decode("utf-8", "replace")
            if name in self._file_names and filename:
                self.part, self._pending = name, filename
                return filename
            await self._skip_part()  # an empty file input, or a file for no file field
        self._check_csrf()
        return None

    async def _skip_part(self) -> None:
        async for _ in self.file_chunks():
            pass

    async def until_file(self) -> str | None:
        self.fields = {"subject_type": "Task", "subject_id": self._task_id}
        return self._pending

    async def finish(self) -> None:
        """The fields after a file are read by the next `next_file`."""


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def read_task_form(
    request: Request, db: AsyncSession, store: BlobStore, uploader: files.Uploader, task: Task
) -> dict[str, Any]:
    """The posted task form; files chosen in its file fields are stored as the task's files
    and their ids given as `f_<field id>__new`. A plain (urlencoded) form is read as before,
    within the body limit that this streaming route no longer gets from the guard."""
    if not _is_multipart(request):
        limit = request.app.state.settings.max_json_bytes
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > limit:
            raise AppError(
                413, f"The form may not be greater than {limit} bytes.", "PAYLOAD_TOO_LARGE"
            )
        return await form_of(request)
    fields = await views.fields_of(db, task)
    names = {FIELD_PREFIX + f.id for f in fields if f.field_type == "file"}
    reader = TaskForm(request, task.id, names)
    new: dict[str, list[str]] = {}
    max_bytes = request.app.state.settings.max_upload_bytes
    try:
        while await reader.next_file() is not None:
            try:
                asset = await files.upload_to_task(db, store, uploader, task, reader, max_bytes)
            except AppError as exc:
                await db.rollback()
                field_id = reader.part.removeprefix(FIELD_PREFIX)
                raise UploadRefused(exc, field_id, _flat(reader.form)) from None
            new.setdefault(reader.part + NEW_SUFFIX, []).append(asset.id)
    except (MalformedUpload, ClientDisconnect):
        await db.rollback()
        raise AppError(400, CUT_OFF, "BAD_REQUEST") from None
    return _flat(reader.form) | new


def _flat(form: dict[str, list[str]]) -> dict[str, Any]:
    return {key: values if len(values) > 1 else values[0] for key, values in form.items()}


@router.post("/{code}/tasks/{task_id}/files")
async def guest_attach(request: Request, db: Db, store: Store, code: str, task_id: str) -> Response:
    from checkrun.web import guest_pages  # the guest pages import this module

    guest = await work.guest_by_code(db, code)
    task = await work.task_of(db, guest, task_id)
    if not _is_multipart(request):
        raise AppError(400, "Send the form with its file.", "BAD_REQUEST")
    reader = TaskForm(request, task.id, {GUEST_FILE})
    try:
        work.check_open(task)
        if await reader.next_file() is None:
            raise AppError(422, "Choose a file first.", "VALIDATION_ERROR")
        await files.upload_to_task(
            db,
            store,
            files.guest_uploader(guest.org_id, guest.email),
            task,
            reader,
            request.app.state.settings.max_upload_bytes,
        )
        await reader.next_file()
    except (MalformedUpload, ClientDisconnect):
        await db.rollback()
        raise AppError(400, CUT_OFF, "BAD_REQUEST") from None
    except AppError as exc:
        await db.rollback()
        view = await views.build_task_view(db, task, for_guest=True)
        view.files = await files.files_of_task(db, guest.org_id, task)
        return guest_pages._task_html(request, guest, code, view, exc.status, error=_message(exc))
    return redirect(f"{PREFIX}/guest/{code}/tasks/{task_id}?notice=uploaded")


@router.get("/{code}/tasks/{task_id}/files/{asset_id}")
async def guest_download(
    request: Request, db: Db, store: Store, code: str, task_id: str, asset_id: str
) -> Response:
    guest = await work.guest_by_code(db, code)
    task = await work.task_of(db, guest, task_id)
    asset = await files.task_asset(db, guest.org_id, task, asset_id)
    asked = Conditions(
        range=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        if_none_match=request.headers.get("if-none-match"),
    )
    served = await serve(store, asset, True, asked)
    if served.body is None:
        return Response(status_code=served.status, headers=served.headers)
    return StreamingResponse(
        served.body, status_code=served.status, media_type=served.media_type, headers=served.headers
    )
