"""File rules: subject checks, allowed types and size, record/bytes ordering, safe serving."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.blobs import commit_then_discard
from checkrun.files.models import Asset
from checkrun.files.multipart import MultipartUpload
from checkrun.files.repository import FilesRepository
from checkrun.kit.auth import Actor
from checkrun.kit.clock import now
from checkrun.kit.errors import AppError, bad_request, forbidden, invalid, invalid_field, not_found
from checkrun.kit.ids import new_id
from checkrun.runs.repository import RunsRepository
from checkrun.storage import BlobStore, StoredBlob, TooLarge
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.repository import TemplatesRepository

ALLOWED_EXTENSIONS = frozenset(
    "xlsx xls pptx docx ppt doc rtf pdf txt mpga mov qt mp4 webm jpg jpeg gif png ai psd zip "
    "xml xps dwg csv tif bmp".split()
)
SUBJECT_TYPES = ("Run", "Checklist", "Task")
# Types a browser would render or execute: never served inline.
ACTIVE_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript",
    "application/javascript", "text/xml", "application/xml",
})


@dataclass(frozen=True)
class UploadFields:
    subject_type: str | None
    subject_id: str | None
    uploaded_from: str | None
    step_id: str | None
    checklist_id: str | None
    source: str | None
    system: str | None


def clean_filename(raw: str | None) -> str:
    # Browsers and HTTP clients escape '"' in a multipart filename as %22 (HTML multipart rules).
    name = re.split(r"[\\/]", (raw or "").replace("%22", '"'))[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255]


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def mime_type_of(filename: str) -> str:
    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"


def _check_fields(fields: UploadFields, filename: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if fields.subject_type not in SUBJECT_TYPES:
        errors["subject_type"] = ["The selected subject type is invalid."]
    if not fields.subject_id:
        errors["subject_id"] = ["The subject id field is required."]
    for name in ("step_id", "checklist_id"):
        human = name.replace("_", " ")
        if fields.subject_type == "Run" and not getattr(fields, name):
            errors[name] = [f"The {human} field is required when subject type is Run."]
        if fields.subject_type == "Task" and getattr(fields, name):
            errors[name] = [f"A one-off task has no {human}: leave it out for subject type Task."]
    if not filename:
        errors["name"] = ["The name field is required."]
    elif extension_of(filename) not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        errors["name"] = [f"The name must be a file of type: {allowed}."]
    if errors:
        raise invalid(errors)


async def _subject_columns(db: AsyncSession, actor: Actor, fields: UploadFields) -> dict[str, str]:
    sid = fields.subject_id or ""
    if fields.subject_type == "Run":
        run = await RunsRepository(db).get(actor.org_id, sid)
        if run is not None and run.deleted_at is None:
            return {"run_id": run.id}
    elif fields.subject_type == "Task":
        task = await TasksRepository(db).get(actor.org_id, sid)
        if task is not None and task.deleted_at is None:
            return {"task_id": task.id}
    else:
        checklist = await TemplatesRepository(db).get(actor.org_id, sid)
        if checklist is not None:
            return {"checklist_id": checklist.id}
    raise invalid_field("subject_id", "Subject not found")


UPLOAD_FIELDS = ("subject_type", "subject_id", "uploaded_from", "step_id", "checklist_id",
                 "source", "system")


def upload_fields(raw: dict[str, str]) -> UploadFields:
    return UploadFields(**{key: (raw.get(key) or "").strip() or None for key in UPLOAD_FIELDS})


async def _checked_subject(
    db: AsyncSession, actor: Actor, fields: UploadFields, filename: str
) -> dict[str, str]:
    _check_fields(fields, filename)
    return await _subject_columns(db, actor, fields)


async def _store_file(
    store: BlobStore, key: str, reader: MultipartUpload, max_bytes: int
) -> StoredBlob:
    try:
        return await store.put(key, reader.file_chunks(), max_bytes)
    except TooLarge:
        raise AppError(413, f"The file may not be greater than {max_bytes // (1024 * 1024)} MB.",
                       "FILE_TOO_LARGE") from None


async def upload(
    db: AsyncSession, store: BlobStore, actor: Actor, reader: MultipartUpload, max_bytes: int,
) -> Asset:
    """Streams the file part straight into the store. When the subject fields come before the
    file (as clients send them) a bad request is refused before any byte is stored; otherwise
    the stored bytes are removed again if the request turns out invalid."""
    raw_name = await reader.until_file()
    subject: dict[str, str] | None = None
    if raw_name is not None and {"subject_type", "subject_id"} <= reader.fields.keys():
        subject = await _checked_subject(db, actor, upload_fields(reader.fields),
                                         clean_filename(raw_name))
    asset_id = new_id()
    key = f"{actor.org_id}/{asset_id}"
    blob = await _store_file(store, key, reader, max_bytes) if raw_name is not None else None
    try:
        await reader.finish()
        fields = upload_fields(reader.fields)
        filename = clean_filename(raw_name)
        if subject is None:
            subject = await _checked_subject(db, actor, fields, filename)
        assert blob is not None  # _check_fields refused a request without a file
        asset = Asset(
            id=asset_id, org_id=actor.org_id, subject_type=fields.subject_type or "",
            subject_id=fields.subject_id or "", step_id=fields.step_id,
            uploaded_from=fields.uploaded_from, filename=filename,
            mime_type=mime_type_of(filename), size=blob.size, sha256=blob.sha256,
            storage_key=key, source=fields.source or "local", system=fields.system,
            uploaded_by=actor.user_id, **subject,
        )
        FilesRepository(db).add(asset)
        await db.commit()
    except BaseException:
        if blob is not None:
            await store.delete(key)
        raise
    return asset


async def get_asset(db: AsyncSession, actor: Actor, asset_id: str) -> Asset:
    asset = await FilesRepository(db).get(actor.org_id, asset_id)
    if asset is None:
        raise not_found()
    return asset


async def purge(db: AsyncSession, store: BlobStore, actor: Actor, asset_id: str) -> None:
    asset = await FilesRepository(db).get(actor.org_id, asset_id, archived=True)
    if asset is None:
        raise not_found()
    if not (actor.is_admin or asset.uploaded_by == actor.user_id):
        raise forbidden("Only an administrator or the uploader can delete this file.")
    if asset.is_org_logo:
        raise bad_request("The organization logo can't be deleted.")
    await FilesRepository(db).purge(asset.id)
    await commit_then_discard(db, store, [asset.storage_key])


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range asked for, as (start, end) inclusive; None means the whole file (no header,
    several ranges, or a form we do not serve). Unsatisfiable: 416."""
    match = _RANGE.match((header or "").replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise AppError(416, "The requested range is not satisfiable.", "RANGE_NOT_SATISFIABLE",
                       headers={"Content-Range": f"bytes */{size}"})
    return start, end


async def archive_asset(db: AsyncSession, actor: Actor, asset_id: str) -> Asset:
    """DELETE /assets/{id}: the record is archived, the bytes stay (DELETE /file purges)."""
    asset = await get_asset(db, actor, asset_id)
    if not (actor.is_admin or asset.uploaded_by == actor.user_id):
        raise forbidden("Only an administrator or the uploader can archive this file.")
    asset.deleted_at = now()
    await db.flush()
    return asset


def content_disposition(kind: str, filename: str) -> str:
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def serving_headers(asset: Asset, download: bool) -> tuple[str, dict[str, str]]:
    """Media type and headers: inline keeps the real type unless a browser would run it."""
    inline = not download and asset.mime_type not in ACTIVE_TYPES
    media_type = asset.mime_type if inline else "application/octet-stream"
    headers = {
        "Content-Disposition": content_disposition("inline" if inline else "attachment",
                                                   asset.filename),
        "Content-Length": str(asset.size),
        "ETag": f'"{asset.sha256}"',
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
    }
    return media_type, headers
