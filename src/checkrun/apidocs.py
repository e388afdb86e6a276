"""The interactive API docs at /api/docs (Swagger UI), from the assets the `swagger-ui-bundle-v2`
package ships: nothing is fetched from another host, so the page works offline."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

DOCS = "/api/docs"
OAUTH2_REDIRECT = DOCS + "/oauth2-redirect"
ASSETS = DOCS + "/assets"
# The only files served: a name outside this table is a 404, whatever the path holds.
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
ASSET_PATHS = frozenset(f"{ASSETS}/{name}" for name in ASSET_TYPES)
CACHE = "public, max-age=86400"


def _asset_dir() -> Path:
    return Path(str(swagger_ui_path))


async def docs_page(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    return get_swagger_ui_html(
        openapi_url=root + request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        oauth2_redirect_url=root + OAUTH2_REDIRECT,
        # No badge from the public validator service.
        swagger_ui_parameters={"validatorUrl": None},
    )


async def oauth2_redirect(request: Request) -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        return Response("not found\n", 404, media_type="text/plain")
    return FileResponse(
        _asset_dir() / name, media_type=media_type, headers={"Cache-Control": CACHE}
    )


def install_docs(app: FastAPI) -> None:
    """Plain routes, as FastAPI's own docs routes are: outside the OpenAPI document."""
    app.add_route(DOCS, docs_page, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT, oauth2_redirect, include_in_schema=False)
    app.add_route(ASSETS + "/{name}", asset, include_in_schema=False)
