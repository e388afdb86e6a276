"""`checkrun serve | init | org | token create | db upgrade | export | import | storage gc |
oauth-client | user`
(a contract: scripts use it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun import __version__, migrate, preflight
from checkrun.backup.export import ExportError, export_org
from checkrun.backup.restore import RestoreError, import_org
from checkrun.config import Settings
from checkrun.db import make_engine, make_sessionmaker
from checkrun.mail.transport import check_settings as check_mail_settings
from checkrun.members import service as members
from checkrun.orgs import admin as orgs_admin
from checkrun.webhooks import admin as webhooks_admin

T = TypeVar("T")
DEFAULT_EMAIL = orgs_admin.DEFAULT_EMAIL


FLAGS = ("data_dir", "host", "port", "workers", "forwarded_allow_ips", "root_path")


def _settings(args: argparse.Namespace) -> Settings:
    """Flags win over CHECKRUN_* variables, which win over `.env`; flags end up in the env so
    that workers see them. The data directory must take files."""
    for flag in FLAGS:
        value = getattr(args, flag, None)
        if value is not None:
            os.environ[f"CHECKRUN_{flag.upper()}"] = str(value)
    settings = preflight.settings()
    preflight.data_dir(settings.data_dir)
    return settings


def _upgrade(settings: Settings, progress: Callable[[str], None] | None = None) -> None:
    """The database answers, then its schema is brought up to date."""
    url = settings.resolved_database_url
    preflight.database(url)
    try:
        migrate.upgrade(url, progress=progress)
    except sa_exc.DBAPIError as exc:
        raise preflight.refused_upgrade(url, exc) from exc


def _reachable(settings: Settings) -> None:
    """The database and the file store answer (for commands that use both)."""
    preflight.database(settings.resolved_database_url)
    preflight.storage(settings)


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = make_engine(settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine, settings)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _site_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _base_url(settings: Settings) -> str:
    return _site_url(settings) + "/api"


def _web_url(settings: Settings) -> str:
    return _site_url(settings) + "/app/"


def _sign_in_link(settings: Settings, email: str) -> str:
    from checkrun.web import auth

    token = _with_session(
        settings, lambda db: auth.issue_sign_in_link(db, email, settings.web_sign_in_link_seconds)
    )
    return f"{_site_url(settings)}/app/sign-in/link/{token}"


def _print_json(settings: Settings, result: members.Bootstrap) -> None:
    print(
        json.dumps(
            {
                "base_url": _base_url(settings),
                "org_id": result.org_id,
                "user_id": result.user_id,
                "email": result.email,
                "token": result.token,
            }
        )
    )


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _upgrade(settings)
    try:
        result = _with_session(settings, lambda db: orgs_admin.init(db, args.org_name, args.email))
    except orgs_admin.Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(settings, result)
    else:
        state = "created" if result.created else "already existed; issued a new token"
        print(
            f"Organization {result.org_id} {state}.\n"
            f"Admin: {result.email} (user {result.user_id})\nToken: {result.token}"
        )
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _upgrade(settings)
    try:
        result = _with_session(settings, lambda db: members.token_for_email(db, args.email))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(settings, result)
    else:
        print(result.token)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _upgrade(settings, progress=_progress)
    print("database is at the latest schema")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _reachable(settings)
    try:
        made = asyncio.run(export_org(settings, args.org, args.out, _progress))
    except ExportError as exc:
        print(f"checkrun export: {exc}", file=sys.stderr)
        return 1
    rows = sum(made.tables.values())
    print(f"exported {made.org_name} ({rows} rows, {len(made.files)} files) to {args.out}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _reachable(settings)
    try:
        made = asyncio.run(import_org(settings, args.file, _progress))
    except RestoreError as exc:
        print(f"checkrun import: {exc}", file=sys.stderr)
        return 1
    rows = sum(made.tables.values())
    print(f"imported {made.org_name} ({made.org_id}: {rows} rows, {len(made.files)} files)")
    return 0


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    """Everything that can fail is checked before anything is made or printed; the banner
    (with the first start's token and sign-in link) is printed once the server answers."""
    settings = _settings(args)
    try:
        check_mail_settings(settings)
    except ValueError as exc:
        raise preflight.StartupError(str(exc), preflight.UNUSABLE) from exc
    preflight.storage(settings)
    preflight.port_free(settings.host, settings.port)
    _upgrade(settings)
    first = _with_session(settings, _first_start)
    banner = _banner(settings, first)
    stopped = threading.Event()
    announcer = threading.Thread(
        target=_announce, args=(_health_url(settings), banner, stopped), daemon=True
    )
    announcer.start()
    try:
        _run_uvicorn(settings)
    finally:
        stopped.set()
    return 0


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "checkrun.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
        timeout_keep_alive=settings.keep_alive_seconds,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        root_path=settings.root_path,
        log_level="info",
    )


def _banner(settings: Settings, first: members.Bootstrap | None) -> str:
    serving = (
        f"checkrun is serving the Tallyfy API at {_base_url(settings)}\n"
        f"and the web app at {_web_url(settings)}"
    )
    if first is None:
        return serving
    minutes = settings.web_sign_in_link_seconds // 60
    return (
        f"{serving}\nFirst start: created an organization and its administrator.\n"
        f"  org id  : {first.org_id}\n  admin   : {first.email}\n"
        f"  token   : {first.token}\n"
        f"  sign in : {_sign_in_link(settings, first.email)}\n"
        f"(The token and the sign-in link are shown once; the link works once, within "
        f"{minutes} minutes. `checkrun token create --email EMAIL` issues another token, "
        "`checkrun user sign-in-link --email EMAIL` another link.)"
    )


def _health_url(settings: Settings) -> str:
    """Where this machine reaches the server: a wildcard bind is reached over loopback."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/api/health"


def _announce(health_url: str, banner: str, stopped: threading.Event) -> None:
    """Prints `banner` once the server answers its health check (never if it stops first)."""
    import httpx

    with httpx.Client(timeout=2, trust_env=False) as client:
        while not stopped.wait(0.1):
            try:
                answered = client.get(health_url).status_code == 200
            except httpx.TransportError:
                continue
            if answered and not stopped.is_set():
                print(banner, flush=True)
                return


async def _first_start(db: AsyncSession) -> members.Bootstrap | None:
    from checkrun.members.repository import MembersRepository

    if await MembersRepository(db).default_admin() is not None:
        return None
    return await members.bootstrap(db, "My Organization", DEFAULT_EMAIL)


def cmd_storage_gc(args: argparse.Namespace) -> int:
    from checkrun.files.gc import collect

    settings = _settings(args)
    preflight.storage(settings)
    _upgrade(settings)
    report = asyncio.run(collect(settings, dry_run=args.dry_run, progress=_progress))
    print(json.dumps(report, indent=2))
    return 0


def _subscribe_listeners() -> None:
    """Changes made from the command line reach the activity feed and webhooks too."""
    from checkrun import listeners

    listeners.install()


def cmd_oauth_client_create(args: argparse.Namespace) -> int:
    from checkrun.oauth import service as oauth

    settings = _settings(args)
    _upgrade(settings)
    _subscribe_listeners()
    try:
        made = _with_session(
            settings, lambda db: oauth.create_client(db, args.org_id, args.org_name, args.name)
        )
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "client_id": made.client_id,
                    "client_secret": made.client_secret,
                    "org_id": made.org_id,
                    "name": made.name,
                    "token_url": _base_url(settings) + "/oauth/token",
                }
            )
        )
    else:
        print(
            f"OAuth client created for organization {made.org_id}.\n"
            f"  client_id     : {made.client_id}\n  client_secret : {made.client_secret}\n"
            "(The secret is shown once and stored hashed.)"
        )
    return 0


def cmd_oauth_client_revoke(args: argparse.Namespace) -> int:
    from checkrun.oauth import service as oauth

    settings = _settings(args)
    _upgrade(settings)
    _subscribe_listeners()
    try:
        _with_session(settings, lambda db: oauth.revoke_client(db, args.client_id))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"OAuth client {args.client_id} revoked (its application tokens too).")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise ValueError("the passwords do not match")
    return first


def cmd_user_set_password(args: argparse.Namespace) -> int:
    from checkrun.oauth import service as oauth

    settings = _settings(args)
    _upgrade(settings)
    _subscribe_listeners()
    try:
        password = _read_password(args)
        user_id = _with_session(settings, lambda db: oauth.set_password(db, args.email, password))
    except (LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Password set for {args.email} (user {user_id}).")
    return 0


def cmd_user_sign_in_link(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _upgrade(settings)
    try:
        link = _sign_in_link(settings, args.email)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(link)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    """The flags every command takes."""
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (env CHECKRUN_DATA_DIR, default ./checkrun-data)",
    )
    # SUPPRESS: `checkrun --debug CMD` is not undone by the command's own default.
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)


def _json(p: argparse.ArgumentParser, what: str = "the result") -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as one line of JSON")


DEBUG_HELP = "on a failure, show the Python traceback instead of one line"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="checkrun", description=__doc__, epilog="Settings are also read from ./.env."
    )
    root.add_argument("--version", action="version", version=f"checkrun {__version__}")
    root.add_argument("--debug", action="store_true", default=False, help=DEBUG_HELP)
    sub = root.add_subparsers(dest="command", required=True)
    _serve_command(sub)

    init = sub.add_parser("init", help="create the first organization, admin and a token")
    _common(init)
    init.add_argument(
        "--org-name",
        default=orgs_admin.env_default("ORG_NAME"),
        help="the organization's name (env CHECKRUN_ORG_NAME; default My Organization)",
    )
    init.add_argument(
        "--email",
        default=orgs_admin.env_default("EMAIL"),
        help=f"the administrator's email (env CHECKRUN_EMAIL; default {DEFAULT_EMAIL})",
    )
    _json(init, "base_url, org_id, user_id, email and token")
    init.set_defaults(func=cmd_init)

    token = sub.add_parser("token", help="access tokens").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", help="issue a personal access token for a user")
    create.add_argument("--email", required=True, help="the user's email")
    _common(create)
    _json(create, "base_url, org_id, user_id, email and token")
    create.set_defaults(func=cmd_token_create)

    db = sub.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    up = db.add_parser("upgrade", help="apply schema migrations")
    _common(up)
    up.set_defaults(func=cmd_db_upgrade)

    _backup_commands(sub)
    storage = sub.add_parser("storage", help="file storage").add_subparsers(
        dest="action", required=True
    )
    gc = storage.add_parser("gc", help="find and remove orphaned bytes and records")
    _common(gc)
    gc.add_argument("--dry-run", action="store_true", help="report only, remove nothing")
    gc.set_defaults(func=cmd_storage_gc)
    orgs_admin.add_commands(sub, _common)
    _oauth_commands(sub)
    webhooks_admin.add_commands(sub, _common)
    return root


def _backup_commands(sub: Any) -> None:
    export = sub.add_parser(
        "export", help="write one organization, its records and files, to an archive"
    )
    export.add_argument("--org", required=True, help="the organization's id")
    export.add_argument("--out", required=True, type=Path, help="the archive to write")
    _common(export)
    export.set_defaults(func=cmd_export)
    restore = sub.add_parser(
        "import", help="restore an exported organization into this database and file store"
    )
    restore.add_argument("file", type=Path, help="an archive written by `checkrun export`")
    _common(restore)
    restore.set_defaults(func=cmd_import)


def _serve_command(sub: Any) -> None:
    serve = sub.add_parser("serve", help="start the API server and the web app")
    serve.add_argument(
        "--host", default=None, help="bind address (env CHECKRUN_HOST, default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=None, help="port (env CHECKRUN_PORT, default 8000)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes (env CHECKRUN_WORKERS, default 1)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="IPS",
        help="behind a proxy: the proxy addresses (comma-separated, or *) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed (env CHECKRUN_FORWARDED_ALLOW_IPS, "
        "default 127.0.0.1)",
    )
    serve.add_argument(
        "--root-path",
        default=None,
        metavar="PATH",
        help="behind a proxy: the path prefix it serves checkrun under, e.g. /checkrun "
        "(env CHECKRUN_ROOT_PATH)",
    )
    _common(serve)
    serve.set_defaults(func=cmd_serve)


def _oauth_commands(sub: Any) -> None:
    clients = sub.add_parser("oauth-client", help="OAuth clients (token endpoint)")
    actions = clients.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", help="create a client for an organization; prints its id and secret once"
    )
    which = create.add_mutually_exclusive_group(required=True)
    which.add_argument("--org-id", help="the organization's id")
    which.add_argument("--org-name", help="the organization's name")
    create.add_argument("--name", default="API client", help="the client's name")
    _common(create)
    _json(create, "client_id, client_secret, org_id, name and token_url")
    create.set_defaults(func=cmd_oauth_client_create)
    revoke = actions.add_parser("revoke", help="revoke a client and its application tokens")
    revoke.add_argument("--client-id", type=int, required=True, help="the client's numeric id")
    _common(revoke)
    revoke.set_defaults(func=cmd_oauth_client_revoke)

    user = sub.add_parser("user", help="users").add_subparsers(dest="action", required=True)
    password = user.add_parser(
        "set-password",
        help="set the password used by the password grant (prompted, or one line on stdin)",
    )
    password.add_argument("--email", required=True, help="the user's email")
    password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of prompting",
    )
    _common(password)
    password.set_defaults(func=cmd_user_set_password)
    link = user.add_parser(
        "sign-in-link", help="print a one-time link that signs the user in to the web app"
    )
    link.add_argument("--email", required=True, help="the user's email")
    _common(link)
    link.set_defaults(func=cmd_user_sign_in_link)


def main(argv: list[str] | None = None) -> int:
    """A failure is one line on stderr (the traceback with --debug) and a non-zero status: 2
    for a setting that can't be used as written, 1 for anything else."""
    args: Any = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except preflight.StartupError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"error: {type(exc).__name__}: {preflight.reason(exc)} "
            "(run again with --debug to see the traceback)",
            file=sys.stderr,
        )
        return 1
