"""The `geoevents` command: serve, database migrations and seeding."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from alembic import command
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess

from app.auth import service as auth
from app.auth.schemas import Scope
from app.bench.generate import generate
from app.core.config import get_settings
from app.core.db import make_engine, make_sessionmaker, session_scope
from app.core.errors import AppError
from app.core.migrations import alembic_config
from app.core.runtime import serving_dir
from app.core.vocab import Dataset
from app.curation import backups
from app.curation import ingest as ingesting
from app.curation.datasets import service as datasets
from app.curation.schemas import IngestBundle
from app.curation.seed import service as seeding
from app.main import create_app
from app.web.metrics import MULTIPROC_ENV
from app.web.protocol import ProblemHttpToolsProtocol


def _upgrade(revision: str = "head") -> None:
    command.upgrade(alembic_config(get_settings().database_url), revision)


def _seed(only_if_empty: bool) -> None:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        for session in session_scope(make_sessionmaker(engine)):
            if only_if_empty and not seeding.is_empty(session):
                print("database already holds events; not seeding")
                return
            report = seeding.seed(session, settings.seed_dir)
            state = "changed" if report.changed else "already up to date"
            counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
            print(f"seed {state}: {counts}")
    finally:
        engine.dispose()


def cmd_serve(args: argparse.Namespace) -> None:
    """Migrate to head, seed an empty database, then serve with uvicorn."""

    _upgrade()
    _seed(only_if_empty=True)
    print(
        f"geoevents on http://{args.host}:{args.port}  (docs at /docs, explorer at /explore)",
        flush=True,
    )
    with _sigterm_after_cleanup(), serving_dir() as folder, _shared_metrics(folder, args.workers):
        _run(
            "app.main:create_app",
            log_config=_log_config(args.log_level),
            access_log=False,  # app.web.limits writes one JSON line per request instead
            # Longer than a load balancer's or a client pool's idle timeout, so that the server
            # is never the side that closes an idle connection as a request is sent on it.
            timeout_keep_alive=args.keep_alive,
            # SIGTERM: stop accepting, let requests in flight finish, then cut off whatever is
            # still running (its transaction rolls back: a write is stored whole or not at all).
            timeout_graceful_shutdown=args.graceful_timeout,
            factory=True,
            http=ProblemHttpToolsProtocol,
            # asyncio's own loop, not uvloop: on SQLite the busiest reads run on the loop, and
            # under uvloop those waiting behind them were served out of turn (32 connections
            # on one worker: p99 of Q3 410-970 ms against 108-119 ms on asyncio's loop, for
            # the same req/s; bench/RESULTS.md).
            loop="asyncio",
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
        )


def _run(app: str, **options: Any) -> None:
    """`uvicorn.run`, except that several workers listen each on a socket of its own.

    uvicorn's workers share one listening socket, and whichever worker wakes first accepts
    every connection waiting: 32 keep-alive connections opened at once (a load test, a
    proxy's pool) all went to one worker of two, which did all the work (bench/RESULTS.md).
    Here each worker binds the address anew with SO_REUSEPORT, and the kernel spreads new
    connections over their sockets. A worker that stops drops the connections still waiting
    in its own queue; the others' are not affected."""
    if options.get("workers", 1) <= 1:
        uvicorn.run(app, **options)
        return
    config = uvicorn.Config(app, **options)
    Multiprocess(config, sockets=[_WorkerSocket.bound(config.host, config.port)]).run()


class _WorkerSocket(socket.socket):
    """A TCP address that each worker process binds for itself: sent to a worker (pickled
    by the supervisor) it arrives as a new socket on the same address, with SO_REUSEPORT.
    The supervisor's own socket holds the address and never listens."""

    @classmethod
    def bound(cls, host: str, port: int) -> _WorkerSocket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        return sock

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return (_WorkerSocket.bound, (host, port))


@contextmanager
def _sigterm_after_cleanup() -> Iterator[None]:
    """A SIGTERM that stops one worker ends the process only once the serving folder is gone.

    uvicorn in one process raises the signal it caught again once it has shut down, with the
    handler it found in place: with the default one the process would end there, before the
    folder is removed. The signal is held here and raised again at the very end, so the exit
    status still says SIGTERM. (Several workers: the supervisor returns, nothing is raised.)
    """
    caught: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda sig, _frame: caught.append(sig))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
    if caught:
        signal.raise_signal(signal.SIGTERM)


@contextmanager
def _shared_metrics(folder: Path, workers: int) -> Iterator[None]:
    """With several workers, a folder of the serving folder where they all keep their metrics,
    named in the environment before uvicorn spawns them (prometheus_client picks its storage
    when it is first imported, which a spawned worker does afresh); restored afterwards.

    One worker runs in this process, which imported prometheus_client already: it keeps its
    own registry, which is the whole server's.
    """
    if workers <= 1:
        yield
        return
    path = folder / "metrics"
    path.mkdir()
    before = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = before


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's own logs as they are; the access log as JSON lines on stdout."""

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["formatters"] = {
        **LOGGING_CONFIG["formatters"],
        "json": {"()": "app.web.limits.JsonFormatter"},
    }
    config["handlers"] = {
        **LOGGING_CONFIG["handlers"],
        "json": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
    }
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "geoevents.access": {"handlers": ["json"], "level": level.upper(), "propagate": False},
    }
    return config


def cmd_db(args: argparse.Namespace) -> None:
    """Alembic, pointed at DATABASE_URL."""
    config = alembic_config(get_settings().database_url)
    if args.action == "upgrade":
        command.upgrade(config, args.revision or "head")
    elif args.action == "downgrade":
        command.downgrade(config, args.revision or "-1")
    else:
        command.current(config, verbose=False)


def cmd_seed(args: argparse.Namespace) -> None:
    """Write the seed bundles (idempotent)."""
    if args.migrate:
        _upgrade()
    _seed(only_if_empty=False)


def _session_run(work: Any) -> Any:
    """Run work(session) in one transaction, committed when it returns."""
    engine = make_engine(get_settings().database_url)
    result = None
    try:
        for session in session_scope(make_sessionmaker(engine)):
            result = work(session)
    finally:
        engine.dispose()
    return result


def cmd_keys(args: argparse.Namespace) -> None:
    """Create, list or revoke API keys."""

    if args.action == "create":
        secret = _session_run(lambda s: auth.create(s, args.name, Scope(args.scope)))
        print(f"created key {args.name!r} with scope {args.scope}; it is shown only this once:")
        print(secret)
    elif args.action == "revoke":
        _session_run(lambda s: auth.revoke(s, args.name))
        print(f"revoked key {args.name!r}")
    else:

        def show(session: Any) -> None:
            for key in auth.get_all(session):
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "valid"
                print(f"{key.name}\t{key.scope}\t{key.prefix}…\t{state}")

        _session_run(show)


def cmd_ingest(args: argparse.Namespace) -> None:
    """Ingest a bundle file (JSON or YAML) in one transaction, as POST /v1/ingest does."""

    with open(args.file, encoding="utf-8") as fh:
        bundle = IngestBundle.model_validate(yaml.safe_load(fh))
    report = _session_run(lambda s: ingesting.ingest(s, args.author, bundle))
    print(report.model_dump_json(indent=2))


class _ImportProgress:
    """Rows read and rows per second: a bar redrawn in place on a terminal (the total is not
    known before the end, so the bar moves to show the import is alive), else a plain line
    every `every` rows and one at the end."""

    def __init__(self, out: Any, every: int = 10_000) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.every = every
        self.started = time.monotonic()
        self.shown = 0.0
        self.last = (0, 0)

    def __call__(self, rows: int, refused: int) -> None:
        now = time.monotonic()
        rate = rows / max(now - self.started, 1e-9)
        self.last = (rows, refused)
        if self.tty:
            if now - self.shown < 0.2:
                return
            self.shown = now
            bar = "#" * (int(now - self.started) % 20 + 1)
            self.out.write(f"\r[{bar:<20}] {rows:,} rows, {refused:,} refused, {rate:,.0f} rows/s")
            self.out.flush()
        elif rows % self.every == 0:
            print(f"{rows:,} rows read, {refused:,} refused, {rate:,.0f} rows/s", file=self.out)

    def done(self) -> None:
        """End the bar's line, or give the last count when no line gave it."""
        rows, refused = self.last
        if self.tty:
            self.out.write("\n")
        elif rows % self.every:
            rate = rows / max(time.monotonic() - self.started, 1e-9)
            print(f"{rows:,} rows read, {refused:,} refused, {rate:,.0f} rows/s", file=self.out)


def cmd_import_dataset(args: argparse.Namespace) -> None:
    """Import UCDP, GDELT or ACLED files through the write path, batch by batch."""

    _upgrade()
    progress = _ImportProgress(sys.stderr)
    files = [Path(f) for f in args.files]
    try:
        report = _session_run(
            lambda s: datasets.import_dataset(
                s,
                Dataset(args.dataset),
                files,
                release=args.release,
                snapshot=args.snapshot,
                author=args.author,
                progress=progress,
            )
        )
    except ValueError as exc:
        raise SystemExit(f"geoevents: {exc}") from exc
    finally:
        progress.done()
    print("\n".join(report.lines()))


def cmd_export(args: argparse.Namespace) -> None:
    """Write the whole history (and the API keys' hashes) as NDJSON."""

    def write(session: Any) -> None:
        out = sys.stdout.buffer if args.file == "-" else open(args.file, "wb")  # noqa: SIM115
        try:
            for line in backups.export_lines(session):
                out.write(line)
        finally:
            if out is not sys.stdout.buffer:
                out.close()

    _session_run(write)


def cmd_import(args: argparse.Namespace) -> None:
    """Load an export into an empty database (migrated first)."""

    _upgrade()
    with open(args.file, "rb") as fh:
        counts = _session_run(lambda s: backups.import_lines(s, fh))
    print("imported " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def cmd_openapi(args: argparse.Namespace) -> None:
    """Write the OpenAPI document the app serves at /openapi.json, for these settings."""
    text = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"
    if args.file == "-":
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")


def cmd_bench_generate(args: argparse.Namespace) -> None:
    """Fill an empty database with the synthetic benchmark corpus."""

    generate(
        args.database_url or get_settings().database_url,
        args.events,
        args.seed,
        workers=args.workers,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="geoevents", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, seed an empty database, serve the API")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--keep-alive", type=int, default=75, help="seconds an idle connection is kept (75)"
    )
    serve.add_argument(
        "--graceful-timeout",
        type=int,
        default=35,
        help="on SIGTERM, seconds to let requests in flight finish before cutting them off "
        "(35: longer than a statement may run, DB_STATEMENT_TIMEOUT_MS)",
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database migrations (Alembic)")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?", help="target revision (head / -1 by default)")
    db.set_defaults(func=cmd_db)

    seed = sub.add_parser("seed", help="write the seed bundles from seed_data/ (idempotent)")
    seed.add_argument("--no-migrate", dest="migrate", action="store_false")
    seed.set_defaults(func=cmd_seed)
    keys = sub.add_parser("keys", help="API keys: create, list, revoke")
    keys.add_argument("action", choices=["create", "list", "revoke"])
    keys.add_argument("--name", help="who holds the key (create, revoke)")
    keys.add_argument("--scope", choices=["read", "write", "admin"], default="write")
    keys.set_defaults(func=cmd_keys)

    ingest = sub.add_parser("ingest", help="ingest a bundle of new reporting (JSON or YAML)")
    ingest.add_argument("file")
    ingest.add_argument("--author", default="cli", help="name the revisions are credited to")
    ingest.set_defaults(func=cmd_ingest)

    dataset = sub.add_parser(
        "import-dataset", help="import UCDP GED, GDELT 2.0 or ACLED files (idempotent)"
    )
    dataset.add_argument("dataset", choices=[d.value for d in Dataset])
    dataset.add_argument("files", nargs="+", metavar="FILE")
    dataset.add_argument(
        "--release", help="the release recorded in provenance (default: the first file's name)"
    )
    dataset.add_argument(
        "--snapshot",
        action="store_true",
        help="the files are the whole dataset: remove its events they no longer hold",
    )
    dataset.add_argument("--author", default="import", help="name the revisions are credited to")
    dataset.set_defaults(func=cmd_import_dataset)

    export = sub.add_parser("export", help="the whole history as NDJSON (a backup)")
    export.add_argument("file", nargs="?", default="-", help="where to write (- for stdout)")
    export.set_defaults(func=cmd_export)
    importing = sub.add_parser("import", help="load an export into an empty database")
    importing.add_argument("file")
    importing.set_defaults(func=cmd_import)

    openapi = sub.add_parser("openapi", help="write the OpenAPI document (/openapi.json)")
    openapi.add_argument("file", nargs="?", default="-", help="where to write (- for stdout)")
    openapi.set_defaults(func=cmd_openapi)

    bench = sub.add_parser("bench", help="benchmark tools").add_subparsers(
        dest="bench_command", required=True
    )
    gen = bench.add_parser("generate", help="write a deterministic synthetic corpus")
    gen.add_argument("--events", type=int, required=True)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--database-url", help="defaults to DATABASE_URL")
    gen.add_argument(
        "--workers",
        type=int,
        help="processes that build the documents (default: one per CPU; 0: none)",
    )
    gen.set_defaults(func=cmd_bench_generate)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `geoevents` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "keys" and args.action in ("create", "revoke") and not args.name:
        parser.error(f"keys {args.action} needs --name")
    try:
        args.func(args)
    except AppError as exc:  # a refused key or bundle: say why, no traceback
        raise SystemExit(f"geoevents: {exc.detail}") from exc


if __name__ == "__main__":
    main(sys.argv[1:])
