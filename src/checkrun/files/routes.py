from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from checkrun.files import service
from checkrun.files.models import Asset
from checkrun.files.schemas import AssetRead
from checkrun.kit import responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.errors import AppError
from checkrun.storage import Store

router = APIRouter(tags=["files"])
FILE = "/organizations/{org_id}/file/{asset_id}"
CHUNK = 1024 * 1024


def api_base(request: Request) -> str:
    configured = request.app.state.settings.public_url
    base = configured or str(request.base_url)
    prefix = "/api" if request.url.path.startswith("/api/") else ""
    return base.rstrip("/") + prefix


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


@router.post("/organizations/{org_id}/file")
@router.post("/organizations/{org_id}/assets")
async def upload_file(request: Request, db: Db, store: Store, actor: CurrentActor) -> JSONResponse:
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise AppError(415, "Send the file as multipart/form-data in the field 'name'.",
                       "UNSUPPORTED_MEDIA_TYPE")
    form = await request.form()
    upload = form.get("name")
    fields = service.UploadFields(**{
        key: _text(form.get(key)) for key in (
            "subject_type", "subject_id", "uploaded_from", "step_id", "checklist_id", "source",
            "system",
        )
    })
    file = upload if isinstance(upload, UploadFile) else None
    try:
        asset = await service.upload(
            db, store, actor, fields, file.filename if file else None,
            _chunks(file) if file else _nothing(), request.app.state.settings.max_upload_bytes,
        )
    finally:
        await form.close()
    return responses.item(AssetRead.of(asset, api_base(request)))


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


@router.get("/organizations/{org_id}/assets/{asset_id}")
async def get_metadata(
    request: Request, db: Db, actor: CurrentActor, asset_id: str
) -> JSONResponse:
    asset = await service.get_asset(db, actor, asset_id)
    # A one-element array, as the seeded metadata page documents.
    return responses.item([AssetRead.of(asset, api_base(request))])


def _serve(store: Store, asset: Asset, download: bool) -> StreamingResponse:
    media_type, headers = service.serving_headers(asset, download)
    return StreamingResponse(store.open(asset.storage_key), media_type=media_type,
                             headers=headers)


@router.get(FILE)
async def view_file(db: Db, store: Store, actor: CurrentActor, asset_id: str) -> Response:
    return _serve(store, await service.get_asset(db, actor, asset_id), download=False)


@router.get(FILE + "/dl")
async def download_file(db: Db, store: Store, actor: CurrentActor, asset_id: str) -> Response:
    return _serve(store, await service.get_asset(db, actor, asset_id), download=True)


@router.delete(FILE)
async def delete_file(db: Db, store: Store, actor: CurrentActor, asset_id: str) -> Response:
    await service.purge(db, store, actor, asset_id)
    return responses.empty(200)
