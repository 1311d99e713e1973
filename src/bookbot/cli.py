"""The `bookbot` command: parses arguments, calls one use case, prints the answer.

Each command imports the use cases it calls inside its own function: a query loads no
Alembic, clinic-file reader, bot or web stack (tests/cli/test_startup.py, bench/startup.py).
Each argument is read and bounded by cli_arguments.py; what is printed is cli_output.py's.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from msgspec.structs import asdict, replace

from bookbot import cli_arguments as read
from bookbot import cli_output as output
from bookbot import collector, i18n, parsing
from bookbot.cli_arguments import typed
from bookbot.deps import DEFAULT_URL, open_database, open_reader
from bookbot.engine.model import Booking, Client
from bookbot.errors import BadInput, BookbotError, Invalid

if TYPE_CHECKING:
    from bookbot.deps import Database, Reader
    from bookbot.engine.places import Where
    from bookbot.services import stats, waitlist

    Handler = Callable[[argparse.Namespace, Database], Any]
    Blocking = Callable[[argparse.Namespace], None]  # runs its own event loop: `run`, `serve`

# Queries a small clinic's SQLite file answers read plainly, without SQLAlchemy (deps.py)
PLAIN = frozenset({"bookings", "next", "slots"})


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command and returns its exit code."""
    try:
        args = _parser(_named(argv)).parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed
        return int(stop.code or 0)
    try:
        with collector.spaced():
            return _command(args)
    except Invalid as error:
        for problem in error.problems:
            message = i18n.text(problem.key, **problem.params)
            print(f"{problem.path}: {message}" if problem.path else message, file=sys.stderr)
        print(i18n.text(error.key, **error.params), file=sys.stderr)
        return error.exit_code
    except BookbotError as error:  # one line: a value it names may hold a line break
        print(
            parsing.visible(i18n.text("cli.error", message=i18n.text(error.key, **error.params))),
            file=sys.stderr,
        )
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def _named(argv: Sequence[str] | None) -> str | None:
    """The command the arguments name first, if any: an option such as `--help` names none."""
    first = (sys.argv[1:] if argv is None else argv)[:1]
    return first[0] if first and not first[0].startswith("-") else None


async def _run(args: argparse.Namespace, db: Database | Reader) -> int:
    try:
        result = await args.handler(args, db)
    finally:
        await db.close()
    if result is not None:
        output.show(args, result)
    return 0


def _command(args: argparse.Namespace) -> int:
    """Runs the command the arguments name; its exit code."""
    if args.blocking:
        args.handler(args)
        return 0
    plain = _reader(args)
    if plain is not None:
        return _settled(_run(args, plain))
    import asyncio  # only here: a plain query runs no event loop

    return asyncio.run(_run(args, open_database(args.db)))


def _settled(work: Coroutine[Any, Any, int]) -> int:
    """A plain query's exit code, its coroutine run to the end without an event loop.

    The plain reader's reads are sqlite3's, which never wait, so the coroutine finishes
    at its first step; importing asyncio would take longer than the whole answer.
    """
    try:
        work.send(None)
    except StopIteration as finished:
        return cast(int, finished.value)
    work.close()
    raise RuntimeError("a plain query waited on something: only SQLAlchemy's path may")


def _reader(args: argparse.Namespace) -> Reader | None:
    """The plain reader, for `bookings`, `next` and `slots` asked of no place, where it can."""
    if args.command not in PLAIN or getattr(args, "each", False):
        return None
    if any(getattr(args, name, None) is not None for name in ("location", "near", "within")):
        return None
    return open_reader(args.db)


# -- arguments -------------------------------------------------------------------------


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, sized as its own is, without importing shutil.

    argparse makes one to check every argument added and sizes it to the terminal with
    shutil, whose archive support (bz2, lzma) costs every query's start 2 ms.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size gives it: COLUMNS, the terminal, 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one localized line on a usage error.

    The line names the argument and what is wrong with it; `--help` gives the usage.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        print(
            parsing.visible(i18n.text("cli.usage_error", message=message, prog=self.prog)),
            file=sys.stderr,
        )
        raise SystemExit(2)


def _parser(wanted: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of the `wanted` one alone: a query starts faster."""
    t = i18n.text
    parser = _Parser(prog="bookbot", description=t("cli.help.bookbot"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, handler: Handler | Blocking) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=t(f"cli.help.{name}"), description=t(f"cli.help.{name}")
        )
        sub.add_argument(
            "--db",
            default=os.environ.get("BOOKBOT_DATABASE_URL", DEFAULT_URL),
            type=typed(read.database_url),
            help=t("cli.arg.db"),
        )
        sub.add_argument("--json", action="store_true", help=t("cli.arg.json"))
        sub.add_argument("--now", type=typed(parsing.bounded_instant), help=t("cli.arg.now"))
        sub.set_defaults(handler=handler, blocking=False)
        return sub

    def named(
        sub: argparse.ArgumentParser, name: str, help: str, *, required: bool = False
    ) -> None:
        """`--NAME ID`: a service or specialist."""
        sub.add_argument(f"--{name}", required=required, type=typed(parsing.identifier), help=help)

    def dated(
        sub: argparse.ArgumentParser,
        flag: str,
        help: str,
        *,
        dest: str | None = None,
        required: bool = False,
    ) -> None:
        """`--FLAG YYYY-MM-DD`: a date the command takes."""
        sub.add_argument(
            f"--{flag}",
            dest=dest or flag,
            required=required,
            type=typed(parsing.bounded_date),
            help=help,
        )

    if wanted in (None, "demo"):
        command("demo", _demo)
    if wanted in (None, "import"):
        from pathlib import Path

        sub = command("import", _import)
        sub.add_argument("file", type=Path, help=t("cli.arg.file"))
    if wanted in (None, "export"):
        command("export", _export)
    if wanted in (None, "slots"):
        sub = command("slots", _slots)
        named(sub, "specialist", t("cli.arg.specialist"))
        named(sub, "service", t("cli.arg.service"))
        dated(sub, "date", t("cli.arg.date"), required=True)
        dated(sub, "to", t("cli.arg.to"))
        _place_arguments(sub)
    if wanted in (None, "next"):
        sub = command("next", _next)
        named(sub, "service", t("cli.arg.service"), required=True)
        named(sub, "specialist", t("cli.arg.specialist"))
        dated(sub, "from", t("cli.arg.from"), dest="first")
        sub.add_argument("--each", action="store_true", help=t("cli.arg.each"))
        _place_arguments(sub)
    if wanted in (None, "holes"):
        sub = command("holes", _holes)
        named(sub, "service", t("cli.arg.service"), required=True)
        dated(sub, "from", t("cli.arg.from"), dest="first", required=True)
        dated(sub, "to", t("cli.arg.to"), required=True)
        sub.add_argument("--weekday", type=typed(read.weekdays), help=t("cli.arg.weekday"))
        sub.add_argument("--min", dest="least", type=typed(read.least), help=t("cli.arg.min"))
        _place_arguments(sub)
    if wanted in (None, "search"):
        sub = command("search", _search)
        named(sub, "service", t("cli.arg.service"), required=True)
        sub.add_argument("--limit", type=typed(read.limit), default=20, help=t("cli.arg.limit"))
        sub.add_argument("--offset", type=typed(read.offset), default=0, help=t("cli.arg.offset"))
        _place_arguments(sub)
    if wanted in (None, "reindex"):
        command("reindex", _reindex)
    if wanted in (None, "book"):
        sub = command("book", _book)
        named(sub, "specialist", t("cli.arg.specialist"), required=True)
        named(sub, "service", t("cli.arg.service"), required=True)
        sub.add_argument("--start", required=True, type=typed(read.start), help=t("cli.arg.start"))
        sub.add_argument(
            "--client-name", type=typed(parsing.person_name), help=t("cli.arg.client_name")
        )
        sub.add_argument(
            "--client-phone", type=typed(parsing.phone), help=t("cli.arg.client_phone")
        )
    if wanted in (None, "cancel"):
        sub = command("cancel", _cancel)
        sub.add_argument("id", type=typed(read.booking_id), help=t("cli.arg.id"))
        sub.add_argument("--reason", type=typed(parsing.line_of_text), help=t("cli.arg.reason"))
    if wanted in (None, "try"):
        sub = command("try", _try)
        sub.add_argument(
            "--language", default=None, type=typed(read.language), help=t("cli.arg.language")
        )
    if wanted in (None, "run"):
        command("run", _run_bot).set_defaults(blocking=True)
    if wanted in (None, "serve"):
        sub = command("serve", _serve)
        sub.set_defaults(blocking=True)
        sub.add_argument("--host", default="0.0.0.0", type=typed(read.host), help=t("cli.arg.host"))
        sub.add_argument(
            "--port",
            type=typed(read.port),
            default=os.environ.get("PORT", "8080"),
            help=t("cli.arg.port"),
        )
    if wanted in (None, "migrate"):
        command("migrate", _migrate)
    if wanted in (None, "deliver"):
        command("deliver", _deliver)
    if wanted in (None, "bookings"):
        sub = command("bookings", _bookings)
        named(sub, "specialist", t("cli.arg.specialist"))
        dated(sub, "from", t("cli.arg.from"), dest="first")
        dated(sub, "to", t("cli.arg.to"))
    if wanted in (None, "stats"):
        sub = command("stats", _stats)
        dated(sub, "from", t("cli.arg.from"), dest="first")
        dated(sub, "to", t("cli.arg.to"))
    if wanted in (None, "waitlist"):
        sub = command("waitlist", _waitlist)
        named(sub, "service", t("cli.arg.service"))
    if wanted is not None and not commands.choices:  # no such command: argparse names them all
        return _parser()
    return parser


def _place_arguments(sub: argparse.ArgumentParser) -> None:
    """`--location ID`, or `--near LAT,LON [--within KM]`: where a question is asked."""
    t = i18n.text
    one = sub.add_mutually_exclusive_group()
    one.add_argument("--location", type=typed(parsing.identifier), help=t("cli.arg.location"))
    one.add_argument("--near", type=typed(read.point), help=t("cli.arg.near"))
    sub.add_argument("--within", type=typed(read.within), help=t("cli.arg.within"))


def _now(args: argparse.Namespace) -> datetime:
    return args.now or datetime.now(UTC)


# -- commands --------------------------------------------------------------------------


async def _demo(args: argparse.Namespace, db: Database) -> dict:
    from bookbot import config, demo
    from bookbot.services import clinic

    provider = config.load().payment_token is not None
    report = await clinic.import_clinic(
        db, demo.clinic(_now(args), deposit=provider), provider=provider
    )
    return {"imported": asdict(report), "message": i18n.text("cli.demo_loaded", db=db.url)}


async def _import(args: argparse.Namespace, db: Database) -> dict:
    from bookbot import config
    from bookbot.services import clinic

    def progress(read: int | None) -> None:
        if sys.stderr.isatty():
            if read is None:
                print("\n" + i18n.text("cli.indexing"), file=sys.stderr, flush=True)
            else:
                print(i18n.text("cli.importing", count=read), end="\r", file=sys.stderr, flush=True)

    report = await clinic.import_file(
        db,
        args.file,
        _now(args),
        provider=config.load().payment_token is not None,
        progress=progress,
    )
    return {
        "imported": asdict(report),
        "message": i18n.text(
            "cli.imported",
            changed=report.changed,
            **{k: v for k, v in asdict(report).items() if k != "changed"},
        ),
    }


async def _export(args: argparse.Namespace, db: Database) -> str:
    from bookbot import clinic_file
    from bookbot.services import clinic

    return clinic_file.dump(await clinic.export_clinic(db))


async def _where(args: argparse.Namespace, db: Database | Reader) -> Where | None:
    """The places the question names (`--location`, `--near`, `--within`), if any."""
    if args.location is None and args.near is None and args.within is None:
        return None  # without loading the use cases of places
    from bookbot.services import places

    return await places.where(cast("Database", db), args.location, args.near, args.within)


def _placed(answer: Any, where: Where | None) -> Any:
    """An answer with the distances of its places when asked near a point."""
    return output.Placed(answer, where.km) if where is not None and where.km else answer


async def _slots(args: argparse.Namespace, db: Database | Reader) -> Any:
    from bookbot.services import availability

    where = await _where(args, db)
    found = await availability.free_slots(
        db,
        _now(args),
        args.date,
        args.to or args.date,
        service=args.service,
        specialist=args.specialist,
        where=where,
    )
    return _placed(found, where)


async def _next(args: argparse.Namespace, db: Database | Reader) -> Any:
    from bookbot.services import availability

    if args.each and args.specialist:
        raise BadInput("error.each_with_specialist")
    where = await _where(args, db)
    if args.each:  # never on the plain reader (_reader)
        from bookbot.services import directory

        days = await directory.soonest_days(
            cast("Database", db), _now(args), args.service, args.first, where
        )
        return _placed(days, where)
    found = await availability.soonest_slot(
        db, _now(args), args.service, specialist=args.specialist, first=args.first, where=where
    )
    return _placed(found, where) if found is not None else output.Nothing()


async def _holes(args: argparse.Namespace, db: Database) -> Any:
    from bookbot.services import directory

    where = await _where(args, db)
    found = await directory.holes(
        db,
        _now(args),
        args.service,
        args.first,
        args.to,
        weekdays=args.weekday,
        least=args.least,
        where=where,
    )
    return _placed(found, where)


async def _search(args: argparse.Namespace, db: Database) -> Any:
    from bookbot.services import directory

    where = await _where(args, db)
    page = await directory.search_page(db, _now(args), args.service, args.limit, args.offset, where)
    return _placed(page, where)


async def _reindex(args: argparse.Namespace, db: Database) -> dict:
    from bookbot.services import reindex

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty() or done == total:
            end = "\n" if done == total else "\r"
            print(
                i18n.text("cli.reindexing", done=done, total=total),
                end=end,
                file=sys.stderr,
                flush=True,
            )

    count = await reindex.reindex(db, _now(args), progress)
    return {
        "imported": {"reindexed": count},
        "message": i18n.text("cli.reindexed", count=count, db=db.url),
    }


async def _book(args: argparse.Namespace, db: Database) -> Booking:
    from bookbot.engine.workday import zone
    from bookbot.services import bookings, clinic

    start = parsing.local_or_instant(
        args.start, zone(await clinic.specialist_zone(db, args.specialist))
    )
    client = None
    if args.client_name or args.client_phone:
        client = Client(name=args.client_name, phone=args.client_phone)
    return await bookings.book(db, _now(args), args.specialist, args.service, start, client)


async def _cancel(args: argparse.Namespace, db: Database) -> Booking:
    from bookbot.engine.bookings import OPERATOR
    from bookbot.services import bookings

    cancelled = await bookings.cancel(db, _now(args), args.id, OPERATOR, args.reason)
    return cancelled.booking


async def _bookings(args: argparse.Namespace, db: Database | Reader) -> list[Booking]:
    from bookbot.services import booked

    return await booked.list_bookings(
        db, specialist=args.specialist, first=args.first, last=args.to
    )


async def _stats(args: argparse.Namespace, db: Database) -> stats.Figures:
    from bookbot.services import stats

    if (args.first is None) != (args.to is None):
        raise BadInput("error.stats_range")
    return await stats.figures(db, args.first, args.to, _now(args))


async def _waitlist(args: argparse.Namespace, db: Database) -> list[waitlist.Waiting]:
    from bookbot.services import waitlist

    return await waitlist.waiting(db, _now(args), args.service)


async def _try(args: argparse.Namespace, db: Database) -> None:
    from bookbot.bot.play import play

    lang = i18n.choose(args.language, os.environ.get("LANG"))
    clock = (lambda: args.now) if args.now else (lambda: datetime.now(UTC))
    await play(db.url, lang, clock=clock)


def _serve(args: argparse.Namespace) -> None:
    """Serves the webhook and the web pages; needs the token and the secret."""
    from bookbot import config
    from bookbot.wiring import serve

    settings = replace(config.load(), database_url=args.db)
    settings.require_token()
    if not settings.secret:
        raise BadInput("error.no_secret")
    serve(settings, args.host, args.port)


async def _deliver(args: argparse.Namespace, db: Database) -> dict:
    from bookbot import config
    from bookbot.wiring import deliver

    settings = replace(config.load(), database_url=args.db)
    outcome = await deliver(settings, db, _now(args))
    return {
        "imported": dict(outcome),
        "message": i18n.text(
            "cli.delivered", sent=outcome["sent"], other=sum(outcome.values()) - outcome["sent"]
        ),
    }


async def _migrate(args: argparse.Namespace, db: Database) -> dict:
    await db.prepare()
    return {"imported": {"migrated": True}, "message": i18n.text("cli.migrated", db=db.url)}


def _run_bot(args: argparse.Namespace) -> None:
    """Polls Telegram until interrupted; run_polling owns its event loop, so this is sync."""
    from bookbot import config
    from bookbot.wiring import run

    settings = replace(config.load(), database_url=args.db)
    settings.require_token()
    run(settings)
