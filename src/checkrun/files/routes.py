from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.requests import ClientDisconnect

from checkrun.files import service, serving
from checkrun.files.multipart import MalformedUpload, MultipartUpload
from checkrun.files.schemas import AssetRead
from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.errors import AppError
from checkrun.kit.unit_of_work import ServiceCommittedDb, UnitOfWorkRoute, writes_on_get
from checkrun.kit.urls import api_base
from checkrun.storage import Store

router = APIRouter(route_class=UnitOfWorkRoute, tags=["files"])
FILE = "/organizations/{org_id}/file/{asset_id}"
# The metadata of one asset, as a list of one (the shape the API documents).
ONE_ASSET = {
    "type": "object",
    "properties": {
        "data": {
            "type": "array",
            "items": answers.ref(AssetRead),
            "minItems": 1,
            "maxItems": 1,
        }
    },
}


@router.post("/organizations/{org_id}/file")
@router.post("/organizations/{org_id}/assets")
@answers.item(AssetRead)
async def upload_file(
    request: Request, db: ServiceCommittedDb, store: Store, actor: CurrentActor
) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise AppError(
            415,
            "Send the file as multipart/form-data in the field 'name'.",
            "UNSUPPORTED_MEDIA_TYPE",
        )
    try:
        reader = MultipartUpload(request.stream(), content_type, file_field="name")
        asset = await service.upload(
            db, store, actor, reader, request.app.state.settings.max_upload_bytes
        )
    except MalformedUpload as exc:
        raise AppError(400, str(exc), "MALFORMED_UPLOAD") from None
    except ClientDisconnect:
        raise AppError(
            400, "The upload was cut off before the file was complete.", "MALFORMED_UPLOAD"
        ) from None
    return responses.item(AssetRead.of(asset, api_base(request)))


@router.get("/organizations/{org_id}/assets/{asset_id}")
@answers.raw(ONE_ASSET, AssetRead)
async def get_metadata(
    request: Request, db: Db, actor: CurrentActor, asset_id: str
) -> JSONResponse:
    asset = await service.get_asset(db, actor, asset_id)
    # A one-element array, as the seeded metadata page documents.
    return responses.item([AssetRead.of(asset, api_base(request))])


async def serve_asset(
    request: Request, db: Db, store: Store, actor: CurrentActor, asset_id: str, download: bool
) -> Response:
    """The bytes with the API's headers (the web app serves files through this too)."""
    asset = await service.get_asset(db, actor, asset_id)
    if download:
        await service.record_download(db, actor, asset, request.headers.get("range"))
    asked = serving.Conditions(
        range=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        if_none_match=request.headers.get("if-none-match"),
    )
    served = await serving.serve(store, asset, download, asked)
    if served.body is None:
        return Response(status_code=served.status, headers=served.headers)
    return StreamingResponse(
        served.body, status_code=served.status, media_type=served.media_type, headers=served.headers
    )


@router.get(FILE)
@answers.binary()
async def view_file(
    request: Request, db: Db, store: Store, actor: CurrentActor, asset_id: str
) -> Response:
    return await serve_asset(request, db, store, actor, asset_id, download=False)


@router.get(FILE + "/dl")
@writes_on_get  # its "File downloaded" activity entry
@answers.binary()
async def download_file(
    request: Request, db: Db, store: Store, actor: CurrentActor, asset_id: str
) -> Response:
    return await serve_asset(request, db, store, actor, asset_id, download=True)


@router.delete("/organizations/{org_id}/assets/{asset_id}")
@answers.item(AssetRead)
async def archive_asset(
    request: Request, db: Db, actor: CurrentActor, asset_id: str
) -> JSONResponse:
    asset = await service.archive_asset(db, actor, asset_id)
    return responses.item(AssetRead.of(asset, api_base(request)))


@router.delete(FILE)
@answers.empty()
async def delete_file(
    db: ServiceCommittedDb, store: Store, actor: CurrentActor, asset_id: str
) -> Response:
    await service.purge(db, store, actor, asset_id)
    return responses.empty(200)
