"""The ASGI app: every domain's routes at /api/... and at /... (the SDK's base has no /api)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from checkrun import __version__, listeners
from checkrun.activity.routes import router as activity_router
from checkrun.apidocs import ASSET_PATHS, install_docs
from checkrun.comments.routes import router as comments_router
from checkrun.config import Settings
from checkrun.customfields.routes import router as customfields_router
from checkrun.db import (
    make_engine,
    make_numbering_engine,
    make_read_sessionmaker,
    make_sessionmaker,
)
from checkrun.files.routes import router as files_router
from checkrun.files.routes import upload_file
from checkrun.folders.routes import router as folders_router
from checkrun.groups.routes import router as groups_router
from checkrun.guests.routes import router as guests_router
from checkrun.health import install_health
from checkrun.idempotency import install_idempotency
from checkrun.kit import clock
from checkrun.kit.auth import current_principal
from checkrun.kit.bodies import install_body_guard
from checkrun.kit.collector import tune_for_serving
from checkrun.kit.errors import install_error_handlers
from checkrun.kit.leases import LeaseWorker
from checkrun.kit.logs import configure_logging
from checkrun.kit.metrics import unwatch_pool, watch_pool
from checkrun.kit.observe import ObserveMiddleware
from checkrun.kit.ratelimit import close_limiter, install_rate_limits
from checkrun.kit.routing import include, index_routes
from checkrun.mail.links import base_of
from checkrun.mail.transport import check_settings as check_mail_settings
from checkrun.mail.worker import OFF_NOTICE, MailWorker
from checkrun.mail.worker import log as mail_log
from checkrun.members.routes import router as members_router
from checkrun.oauth.deps import application_actor
from checkrun.oauth.routes import router as oauth_router
from checkrun.openapi import install_openapi
from checkrun.orgs.routes import router as orgs_router
from checkrun.runs.routes import router as runs_router
from checkrun.scheduler import reminders
from checkrun.scheduler.loop import Scheduler
from checkrun.scrape import MetricsEndpoint
from checkrun.search.routes import router as search_router
from checkrun.snippets.routes import router as snippets_router
from checkrun.storage import make_store
from checkrun.tags.routes import router as tags_router
from checkrun.tasks.batch_routes import router as task_batch_router
from checkrun.tasks.form_values_routes import router as form_values_router
from checkrun.tasks.routes import router as tasks_router
from checkrun.templates.routes import router as templates_router
from checkrun.templates.steps_routes import router as steps_router
from checkrun.web.app import install_web
from checkrun.web.file_pages import attach as web_attach
from checkrun.web.guest_pages import guest_action
from checkrun.web.pages import task_action
from checkrun.web.task_files import guest_attach
from checkrun.webhooks.routes import router as webhooks_router
from checkrun.webhooks.worker import DeliveryWorker

DOMAIN_ROUTERS = (
    members_router,
    orgs_router,
    templates_router,
    steps_router,
    runs_router,
    tasks_router,
    form_values_router,
    task_batch_router,
    snippets_router,
    files_router,
    search_router,
    guests_router,
    groups_router,
    tags_router,
    comments_router,
    customfields_router,
    folders_router,
    activity_router,
    webhooks_router,
    oauth_router,
)


def include_api(app: FastAPI) -> None:
    """The API under `/api` (the documented copy) and again at `/` (what SDKs configured
    without `/api` call)."""
    for prefix, in_schema in (("/api", True), ("", False)):
        for domain in DOMAIN_ROUTERS:
            include(app, domain, prefix=prefix, include_in_schema=in_schema)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    if settings.clock_file is not None:
        clock.use_file(settings.clock_file)
    check_mail_settings(settings)
    engine = make_engine(settings.resolved_database_url, settings.db_ping_idle_seconds)
    numbering = make_numbering_engine(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers: list[LeaseWorker[Any]] = [DeliveryWorker(app.state.sessionmaker, settings)]
        if settings.mail_enabled:
            workers.append(MailWorker(app.state.sessionmaker, settings))
            if not settings.public_url:
                mail_log.warning(
                    "links in emails point at %s: set CHECKRUN_PUBLIC_URL to the "
                    "address people open checkrun at",
                    base_of(settings),
                )
        else:
            mail_log.warning(OFF_NOTICE)
        watch_pool(engine)
        for worker in workers:
            await worker.start()
        scheduler = Scheduler(app.state.sessionmaker, settings)
        await scheduler.start()
        try:
            yield
        finally:
            # Together: each may take its grace period to finish what it holds.
            await asyncio.gather(scheduler.stop(), *(worker.stop() for worker in workers))
            await close_limiter(app.state.limiter)
            await engine.dispose()
            if numbering is not None:
                await numbering.dispose()
            unwatch_pool(engine)

    app = FastAPI(
        title="checkrun",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served from packaged assets: `apidocs`
        redoc_url=None,
    )
    install_docs(app)
    app.state.settings = settings
    app.state.engine = engine
    app.state.numbering_engine = numbering
    app.state.sessionmaker = make_sessionmaker(engine, settings, numbering)
    app.state.read_sessionmaker = make_read_sessionmaker(engine, settings)
    app.state.store = make_store(settings.resolved_storage_url, settings.s3_endpoint_url)
    install_error_handlers(app)
    listeners.install()
    reminders.install()
    # Before the API's routes at `/`: the pages' paths are matched first.
    install_web(app)
    include_api(app)
    install_openapi(app)
    install_idempotency(app)
    install_body_guard(
        app,
        settings.max_json_bytes,
        token_dependencies=(current_principal, application_actor),
        streaming_endpoints=(upload_file, web_attach, task_action, guest_action, guest_attach),
    )
    # A flood is counted before any token is looked up.
    install_rate_limits(app, settings, exempt=ASSET_PATHS | {settings.metrics_path})
    # Outermost: every answer gets its request id and is measured, the limiter's 429s too.
    app.add_middleware(
        ObserveMiddleware, access=settings.access_log, measure=bool(settings.metrics_path)
    )
    install_health(app, settings.ready_timeout_seconds)
    install_metrics(app, settings)
    index_routes(app)
    return app


def install_metrics(app: FastAPI, settings: Settings) -> None:
    if not settings.metrics_path:
        return
    endpoint = MetricsEndpoint(
        app.state.sessionmaker, settings.metrics_token, settings.ready_timeout_seconds
    )
    app.add_route(settings.metrics_path, endpoint.scrape, ["GET"], include_in_schema=False)


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (and for workers, which read CHECKRUN_* from the env):
    the process's logging and garbage collector are the server's to set, not the tests'
    (which call `create_app`)."""
    settings = Settings()
    configure_logging(settings)
    app = create_app(settings)
    tune_for_serving()
    return app
