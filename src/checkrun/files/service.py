"""File rules: subject checks, allowed types and size, record/bytes ordering (serving is in
serving.py)."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.blobs import commit_then_discard
from checkrun.files.models import Asset
from checkrun.files.multipart import MultipartUpload
from checkrun.files.repository import FilesRepository
from checkrun.kit import events
from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.clock import now
from checkrun.kit.errors import AppError, bad_request, forbidden, invalid, invalid_field, not_found
from checkrun.kit.ids import new_id
from checkrun.kit.metrics import UPLOAD_BYTES
from checkrun.runs.repository import RunsRepository
from checkrun.storage import BlobStore, StoredBlob, TooLarge
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.repository import TemplatesRepository

ALLOWED_EXTENSIONS = frozenset(
    "xlsx xls pptx docx ppt doc rtf pdf txt mpga mov qt mp4 webm jpg jpeg gif png ai psd zip "
    "xml xps dwg csv tif bmp".split()
)
SUBJECT_TYPES = ("Run", "Checklist", "Task")


@dataclass(frozen=True)
class UploadFields:
    subject_type: str | None
    subject_id: str | None
    uploaded_from: str | None
    step_id: str | None
    checklist_id: str | None
    source: str | None
    system: str | None


GUEST_UPLOADER = 0


@dataclass(frozen=True)
class Uploader:
    """Who stores a file: a member (through the API or the web app) or a guest through their
    link (uploaded_by 0, no member; the activity entry names the guest)."""

    org_id: str
    user_id: int
    who: dict[str, Any]


def member_uploader(actor: Actor) -> Uploader:
    return Uploader(actor.org_id, actor.user_id, events.by(actor))


def guest_uploader(org_id: str, email: str) -> Uploader:
    return Uploader(
        org_id, GUEST_UPLOADER, {"actor_type": "guest", "actor_email": email, "source": "Guest"}
    )


async def _record(
    db: AsyncSession, actor: Actor | Uploader, asset: Asset, verb: str, description: str
) -> None:
    """An activity entry about this file, filed under what it belongs to."""
    who = actor.who if isinstance(actor, Uploader) else events.by(actor)
    await events.emit(
        db,
        events.Event(
            org_id=asset.org_id,
            type="Asset",
            verb=verb,
            entity_type="asset",
            entity_id=asset.id,
            run_id=asset.run_id,
            task_id=asset.task_id,
            checklist_id=asset.checklist_id,
            description=description,
            extra={"filename": asset.filename},
            **who,
        ),
    )


async def record_download(
    db: AsyncSession, actor: Actor, asset: Asset, asked_range: str | None
) -> None:
    """The "File downloaded" entry. A download fetched in pieces is recorded once, by the
    request for its first byte."""
    if asked_range and not asked_range.replace(" ", "").startswith("bytes=0-"):
        return
    await _record(db, actor, asset, "emitted", f"File downloaded: {asset.filename}")


MAX_FILENAME = 255
MAX_EXTENSION = 16


def clean_filename(raw: str | None) -> str:
    # Browsers and HTTP clients escape '"' in a multipart filename as %22 (HTML multipart rules).
    name = re.split(r"[\\/]", (raw or "").replace("%22", '"'))[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return shortened(name, MAX_FILENAME)


def shortened(name: str, limit: int) -> str:
    """At most `limit` characters; a long name loses the end of its stem, not its extension
    (which decides the type it is served as and whether it is accepted)."""
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > MAX_EXTENSION:
        return name[:limit]
    return stem[: limit - len(ext) - 1].rstrip() + "." + ext


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def mime_type_of(filename: str) -> str:
    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"


def _field_errors(fields: UploadFields, filename: str | None) -> dict[str, list[str]]:
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
    return errors


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
            # A template's files are part of its design, which light members can't edit.
            require_not_light(actor)
            return {"checklist_id": checklist.id}
    raise invalid_field("subject_id", "Subject not found")


UPLOAD_FIELDS = (
    "subject_type",
    "subject_id",
    "uploaded_from",
    "step_id",
    "checklist_id",
    "source",
    "system",
)


def upload_fields(raw: dict[str, str]) -> UploadFields:
    return UploadFields(**{key: (raw.get(key) or "").strip() or None for key in UPLOAD_FIELDS})


Subject = Callable[[UploadFields], Awaitable[dict[str, str]]]


async def _early_subject(
    subject_of: Subject, raw: dict[str, str], filename: str
) -> dict[str, str] | None:
    """What the fields sent before the file already settle (the first value of a field wins), so
    a bad request is refused before a byte is stored. None: the subject is not known yet."""
    errors = _field_errors(upload_fields(raw), filename)
    settled = {key: value for key, value in errors.items() if key in raw or key == "name"}
    if settled:
        raise invalid(settled)
    if not {"subject_type", "subject_id"} <= raw.keys():
        return None
    return await subject_of(upload_fields(raw))


async def _final_subject(
    subject_of: Subject,
    fields: UploadFields,
    filename: str,
    known: dict[str, str] | None,
) -> dict[str, str]:
    errors = _field_errors(fields, filename)
    if errors:
        raise invalid(errors)
    return known if known is not None else await subject_of(fields)


async def _store_file(
    store: BlobStore, key: str, reader: MultipartUpload, max_bytes: int
) -> StoredBlob:
    try:
        stored = await store.put(key, reader.file_chunks(), max_bytes)
    except TooLarge:
        raise AppError(
            413,
            f"The file may not be greater than {max_bytes // (1024 * 1024)} MB.",
            "FILE_TOO_LARGE",
        ) from None
    UPLOAD_BYTES.inc(stored.size)
    return stored


async def upload(
    db: AsyncSession,
    store: BlobStore,
    actor: Actor,
    reader: MultipartUpload,
    max_bytes: int,
) -> Asset:
    async def subject_of(fields: UploadFields) -> dict[str, str]:
        return await _subject_columns(db, actor, fields)

    return await _upload(db, store, member_uploader(actor), reader, max_bytes, subject_of)


async def upload_to_task(
    db: AsyncSession,
    store: BlobStore,
    uploader: Uploader,
    task: Task,
    reader: MultipartUpload,
    max_bytes: int,
) -> Asset:
    """A file for a task the caller already reached through its own rules (a guest's own
    task): the reader's subject must be that task."""

    async def subject_of(fields: UploadFields) -> dict[str, str]:
        if fields.subject_type != "Task" or fields.subject_id != task.id:
            raise invalid_field("subject_id", "Subject not found")
        return {"task_id": task.id}

    return await _upload(db, store, uploader, reader, max_bytes, subject_of)


async def _upload(
    db: AsyncSession,
    store: BlobStore,
    actor: Uploader,
    reader: MultipartUpload,
    max_bytes: int,
    subject_of: Subject,
) -> Asset:
    """Streams the file part straight into the store, then commits the record; whatever goes
    wrong after the bytes are stored (a late field, a failed commit, a cut-off body) removes
    them again."""
    raw_name = await reader.until_file()
    filename = clean_filename(raw_name)
    known = None if raw_name is None else await _early_subject(subject_of, reader.fields, filename)
    # Hand the connection back to the pool while the bytes stream in, which may take minutes.
    await db.commit()
    asset_id = new_id()
    key = f"{actor.org_id}/{asset_id}"
    blob = await _store_file(store, key, reader, max_bytes) if raw_name is not None else None
    try:
        await reader.finish()
        fields = upload_fields(reader.fields)
        subject = await _final_subject(subject_of, fields, filename, known)
        assert blob is not None  # _field_errors refused a request without a file
        asset = _new_asset(asset_id, actor, fields, filename, blob, subject)
        FilesRepository(db).add(asset)
        await _record(db, actor, asset, "uploaded", f"Uploaded {asset.filename}")
        await db.commit()
    except BaseException:
        if blob is not None:
            with anyio.CancelScope(shield=True):  # a cancelled request must still clean up
                await store.delete(key)
        raise
    return asset


def _new_asset(
    asset_id: str,
    actor: Uploader,
    fields: UploadFields,
    filename: str,
    blob: StoredBlob,
    subject: dict[str, str],
) -> Asset:
    return Asset(
        id=asset_id,
        org_id=actor.org_id,
        subject_type=fields.subject_type or "",
        subject_id=fields.subject_id or "",
        step_id=fields.step_id,
        uploaded_from=fields.uploaded_from,
        filename=filename,
        mime_type=mime_type_of(filename),
        size=blob.size,
        sha256=blob.sha256,
        storage_key=blob.key,
        source=fields.source or "local",
        system=fields.system,
        uploaded_by=actor.user_id,
        **subject,
    )


async def task_asset(db: AsyncSession, org_id: str, task: Task, asset_id: str) -> Asset:
    """One of a task's live files (a guest reaches only their own task's); else not found."""
    found = [a for a in await FilesRepository(db).of_task(org_id, task) if a.id == asset_id]
    if not found:
        raise not_found()
    return found[0]


async def files_of_task(db: AsyncSession, org_id: str, task: Task) -> list[Asset]:
    return await FilesRepository(db).of_task(org_id, task)


async def get_asset(db: AsyncSession, actor: Actor, asset_id: str) -> Asset:
    asset = await FilesRepository(db).get(actor.org_id, asset_id)
    if asset is None:
        raise not_found()
    return asset


async def task_files(db: AsyncSession, actor: Actor, task: Task) -> list[Asset]:
    """The files of a task the caller may see (the caller got the task through the tasks
    service, which checked that)."""
    return await FilesRepository(db).of_task(actor.org_id, task)


async def purge(db: AsyncSession, store: BlobStore, actor: Actor, asset_id: str) -> None:
    asset = await FilesRepository(db).get(actor.org_id, asset_id, archived=True)
    if asset is None:
        raise not_found()
    if not (actor.is_admin or asset.uploaded_by == actor.user_id):
        raise forbidden("Only an administrator or the uploader can delete this file.")
    if asset.is_org_logo:
        raise bad_request("The organization logo can't be deleted.")
    await _record(db, actor, asset, "deleted", f"Deleted {asset.filename}")
    await FilesRepository(db).purge(asset.id)
    await commit_then_discard(db, store, [asset.storage_key])


async def archive_asset(db: AsyncSession, actor: Actor, asset_id: str) -> Asset:
    """DELETE /assets/{id}: the record is archived, the bytes stay (DELETE /file purges)."""
    asset = await get_asset(db, actor, asset_id)
    if not (actor.is_admin or asset.uploaded_by == actor.user_id):
        raise forbidden("Only an administrator or the uploader can archive this file.")
    asset.deleted_at = now()
    await _record(db, actor, asset, "archived", f"Archived {asset.filename}")
    await db.flush()
    return asset
