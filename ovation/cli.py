"""``ovation`` command line: run the platform, migrate, manage users, load a demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

from core.settings import Settings, get_settings

WORKER_QUEUES = "media,fraud,leaderboard,maintenance"


def _python_module(*args: str) -> list[str]:
    # -P: the working directory is not put on sys.path, so a folder there named like one of our packages
    # (the data directory's uploads/, say) cannot shadow it in the children.
    return [sys.executable, "-P", "-m", "ovation", *args]


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from api.limits import uvicorn_options

    if args.host or args.port:
        # The app reads its settings again in this process: links in account mail then point at the address
        # really served (unless OVATION_PUBLIC_URL says where the public reaches it).
        os.environ.update({"OVATION_HOST": args.host or get_settings().http.host})
        os.environ.update({"OVATION_PORT": str(args.port or get_settings().http.port)})
        get_settings.cache_clear()
    settings = get_settings()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host or settings.http.host,
        port=args.port or settings.http.port,
        workers=args.workers,
        # Client addresses are taken from X-Forwarded-For by the app itself, only from trusted proxies.
        proxy_headers=False,
        log_config=None,
        access_log=False,
        **uvicorn_options(settings.http),  # header size, keep-alive, connection cap
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from workers.app import create_worker_app

    celery_app = create_worker_app(get_settings())

    argv = ["worker", "-Q", args.queues, "--loglevel", args.loglevel, "--concurrency", str(args.concurrency)]
    if args.pool:
        argv += ["--pool", args.pool]
    celery_app.worker_main(argv)  # does not return


def cmd_beat(args: argparse.Namespace) -> int:
    from workers.app import create_worker_app

    celery_app = create_worker_app(get_settings())

    celery_app.start(["beat", "--loglevel", args.loglevel])  # does not return


def cmd_db(args: argparse.Namespace) -> int:
    from core import migrate

    url = get_settings().database.url
    if args.action == "upgrade":
        migrate.upgrade(url, args.revision or "head")
    else:
        migrate.downgrade(url, args.revision or "-1")
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    from core.db import create_engine, create_sessionmaker
    from core.errors import DomainError
    from core.services import users

    password = args.password or os.environ.get("OVATION_NEW_USER_PASSWORD") or getpass.getpass("Password: ")

    async def create() -> int:
        engine = create_engine(get_settings().database)
        try:
            async with create_sessionmaker(engine)() as session:
                user = await users.create_user(
                    session,
                    email=args.email,
                    username=args.username,
                    password=password,
                    roles=args.role,
                    email_verified=True,
                )
                await session.commit()
                return user.id
        finally:
            await engine.dispose()

    try:
        user_id = asyncio.run(create())
    except DomainError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    print(
        f"created user {args.username} (id {user_id}) with roles {', '.join(sorted({'voter', *args.role}))}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from core.demo import load_demo

    summary = asyncio.run(load_demo(get_settings(), if_empty=args.if_empty))
    print(summary)
    return 0


def _demo_logins_text(settings: Settings) -> str:
    """The demo accounts' logins, at every start (not only the first, when the demo is loaded)."""
    from core.demo import DEMO_PASSWORD, demo_logins

    logins = asyncio.run(demo_logins(settings))
    if not logins:
        return ""
    lines = "".join(f"    {role:<11} {username} / {DEMO_PASSWORD}\n" for role, username in logins)
    return "  Demo logins:\n" + lines


class _Supervisor:
    """Runs the API, worker and scheduler as child processes and stops them together."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def start(self, name: str, argv: list[str]) -> None:
        self.children.append((name, subprocess.Popen(argv)))

    def stop(self, *_: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        for _name, child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _name, child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()

    def wait(self) -> int:
        while not self.stopping:
            for name, child in self.children:
                code = child.poll()
                if code is not None:
                    print(f"ovation: {name} exited with {code}; stopping the rest", file=sys.stderr)
                    self.stop()
                    return code or 1
            time.sleep(0.5)
        return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = get_settings()
    cmd_db(argparse.Namespace(action="upgrade", revision="head"))
    if args.demo:
        cmd_demo(argparse.Namespace(if_empty=True))
    supervisor = _Supervisor()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        supervisor.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    port = str(args.port or settings.http.port)
    supervisor.start("api", _python_module("api", "--port", port))
    supervisor.start("worker", _python_module("worker", "--concurrency", str(args.concurrency)))
    supervisor.start("beat", _python_module("beat"))
    mode = "production" if settings.production else "embedded"
    base = f"http://{settings.http.host}:{port}"
    print(
        f"\nOvation is running ({mode} mode, data in {settings.data_dir}).\n"
        f"  Contests    {base}/\n"
        f"  Moderation  {base}/moderation   Admin {base}/admin\n"
        f"  API docs    {base}/schema       Readiness {base}/ready\n"
        + _demo_logins_text(settings)
        + "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    code = supervisor.wait()
    supervisor.stop()
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ovation", description="Ovation contest voting platform")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="API + worker + scheduler in one foreground command")
    run.add_argument("--port", type=int)
    run.add_argument("--concurrency", type=int, default=2)
    run.add_argument(
        "--demo", action="store_true", help="load the demo contest first when the database is empty"
    )
    run.set_defaults(func=cmd_run)

    api = commands.add_parser("api", help="the HTTP API")
    api.add_argument("--host")
    api.add_argument("--port", type=int)
    api.add_argument("--workers", type=int, default=1)
    api.set_defaults(func=cmd_api)

    worker = commands.add_parser("worker", help="a Celery worker")
    worker.add_argument("--queues", default=WORKER_QUEUES)
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--pool", choices=["prefork", "solo", "threads"])
    worker.add_argument("--loglevel", default="INFO")
    worker.set_defaults(func=cmd_worker)

    beat = commands.add_parser("beat", help="the Celery beat scheduler")
    beat.add_argument("--loglevel", default="INFO")
    beat.set_defaults(func=cmd_beat)

    db = commands.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?")
    db.set_defaults(func=cmd_db)

    users = commands.add_parser("users", help="manage accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser("create", help="create an account (e.g. the first admin)")
    create.add_argument("--email", required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--password", help="default: $OVATION_NEW_USER_PASSWORD, else prompted")
    create.add_argument(
        "--role", action="append", default=[], choices=["voter", "contestant", "moderator", "admin"]
    )
    create.set_defaults(func=cmd_users_create)

    demo = commands.add_parser("demo", help="load a demo contest with songs and votes")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when contests already exist")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # Celery's worker and beat mains return None when they stop.
        return int(args.func(args) or 0)
    except ValueError as exc:  # settings errors: say what to fix
        print(f"ovation: {exc}", file=sys.stderr)
        return 2
