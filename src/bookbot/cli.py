"""The `bookbot` command: parses arguments, calls one use case, prints the answer.

Each command imports the use cases it calls inside its own function: a query loads no
Alembic, clinic-file reader, bot or web stack (tests/cli/test_startup.py, bench/startup.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bookbot import cli_output as output
from bookbot import i18n, parsing
from bookbot.deps import DEFAULT_URL, Database, open_database
from bookbot.engine.model import WEEKDAYS, Booking, Client
from bookbot.errors import BadInput, BookbotError, Invalid

if TYPE_CHECKING:
    from bookbot.engine.places import Where
    from bookbot.services import stats, waitlist

Handler = Callable[[argparse.Namespace, Database], Any]
Blocking = Callable[[argparse.Namespace], None]  # runs its own event loop: `run`, `serve`

# Bounds of what the command line takes in (spec/cli.md): anything outside is exit 2.
LONGEST_ARGUMENT = 4096  # a path or a database URL; nothing else comes close
MOST_LISTED = 1000  # `search --limit`
MOST_SKIPPED = 100_000  # `search --offset`
LONGEST_HOLE = timedelta(hours=24)  # `holes --min`: a hole lies within one day's windows
FARTHEST_KM = 20_000.0  # `--within`: half the Earth's circumference, every place there is
DEGREES = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,10})?", re.ASCII)
DISTANCE = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,3})?", re.ASCII)
LAST_BOOKING_ID = 2**31 - 1  # bookings.id is INTEGER: 32 bits on PostgreSQL
HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")  # a host name, IPv4 or IPv6


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command and returns its exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed
        return int(stop.code or 0)
    try:
        if args.blocking:
            args.handler(args)
            return 0
        return asyncio.run(_run(args))
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


async def _run(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        result = await args.handler(args, db)
    finally:
        await db.close()
    if result is not None:
        output.show(args, result)
    return 0


# -- arguments -------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one localized line on a usage error.

    The line names the argument and what is wrong with it; `--help` gives the usage.
    """

    def error(self, message: str) -> None:  # type: ignore[override]
        print(
            parsing.visible(i18n.text("cli.usage_error", message=message, prog=self.prog)),
            file=sys.stderr,
        )
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
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
            type=_typed(_database_url),
            help=t("cli.arg.db"),
        )
        sub.add_argument("--json", action="store_true", help=t("cli.arg.json"))
        sub.add_argument("--now", type=_typed(parsing.bounded_instant), help=t("cli.arg.now"))
        sub.set_defaults(handler=handler, blocking=False)
        return sub

    command("demo", _demo)
    sub = command("import", _import)
    sub.add_argument("file", type=Path, help=t("cli.arg.file"))
    command("export", _export)

    sub = command("slots", _slots)
    sub.add_argument("--specialist", type=_typed(parsing.identifier), help=t("cli.arg.specialist"))
    sub.add_argument("--service", type=_typed(parsing.identifier), help=t("cli.arg.service"))
    sub.add_argument(
        "--date", required=True, type=_typed(parsing.bounded_date), help=t("cli.arg.date")
    )
    sub.add_argument("--to", type=_typed(parsing.bounded_date), help=t("cli.arg.to"))
    _place_arguments(sub)

    sub = command("next", _next)
    sub.add_argument(
        "--service", required=True, type=_typed(parsing.identifier), help=t("cli.arg.service")
    )
    sub.add_argument("--specialist", type=_typed(parsing.identifier), help=t("cli.arg.specialist"))
    sub.add_argument(
        "--from", dest="first", type=_typed(parsing.bounded_date), help=t("cli.arg.from")
    )
    sub.add_argument("--each", action="store_true", help=t("cli.arg.each"))
    _place_arguments(sub)

    sub = command("holes", _holes)
    sub.add_argument(
        "--service", required=True, type=_typed(parsing.identifier), help=t("cli.arg.service")
    )
    sub.add_argument(
        "--from",
        dest="first",
        required=True,
        type=_typed(parsing.bounded_date),
        help=t("cli.arg.from"),
    )
    sub.add_argument("--to", required=True, type=_typed(parsing.bounded_date), help=t("cli.arg.to"))
    sub.add_argument("--weekday", type=_typed(_weekdays), help=t("cli.arg.weekday"))
    sub.add_argument("--min", dest="least", type=_typed(_least), help=t("cli.arg.min"))
    _place_arguments(sub)

    sub = command("search", _search)
    sub.add_argument(
        "--service", required=True, type=_typed(parsing.identifier), help=t("cli.arg.service")
    )
    sub.add_argument("--limit", type=_typed(_limit), default=20, help=t("cli.arg.limit"))
    sub.add_argument("--offset", type=_typed(_offset), default=0, help=t("cli.arg.offset"))
    _place_arguments(sub)

    command("reindex", _reindex)

    sub = command("book", _book)
    sub.add_argument(
        "--specialist", required=True, type=_typed(parsing.identifier), help=t("cli.arg.specialist")
    )
    sub.add_argument(
        "--service", required=True, type=_typed(parsing.identifier), help=t("cli.arg.service")
    )
    sub.add_argument("--start", required=True, type=_typed(_start), help=t("cli.arg.start"))
    sub.add_argument(
        "--client-name", type=_typed(parsing.person_name), help=t("cli.arg.client_name")
    )
    sub.add_argument("--client-phone", type=_typed(parsing.phone), help=t("cli.arg.client_phone"))

    sub = command("cancel", _cancel)
    sub.add_argument("id", type=_typed(_booking_id), help=t("cli.arg.id"))
    sub.add_argument("--reason", type=_typed(parsing.line_of_text), help=t("cli.arg.reason"))

    sub = command("try", _try)
    sub.add_argument("--language", default=None, type=_typed(_language), help=t("cli.arg.language"))
    command("run", _run_bot).set_defaults(blocking=True)
    sub = command("serve", _serve)
    sub.set_defaults(blocking=True)
    sub.add_argument("--host", default="0.0.0.0", type=_typed(_host), help=t("cli.arg.host"))
    sub.add_argument(
        "--port", type=_typed(_port), default=os.environ.get("PORT", "8080"), help=t("cli.arg.port")
    )
    command("migrate", _migrate)
    command("deliver", _deliver)

    sub = command("bookings", _bookings)
    sub.add_argument("--specialist", type=_typed(parsing.identifier), help=t("cli.arg.specialist"))
    sub.add_argument(
        "--from", dest="first", type=_typed(parsing.bounded_date), help=t("cli.arg.from")
    )
    sub.add_argument("--to", type=_typed(parsing.bounded_date), help=t("cli.arg.to"))

    sub = command("stats", _stats)
    sub.add_argument(
        "--from", dest="first", type=_typed(parsing.bounded_date), help=t("cli.arg.from")
    )
    sub.add_argument("--to", type=_typed(parsing.bounded_date), help=t("cli.arg.to"))
    sub = command("waitlist", _waitlist)
    sub.add_argument("--service", type=_typed(parsing.identifier), help=t("cli.arg.service"))
    return parser


def _place_arguments(sub: argparse.ArgumentParser) -> None:
    """`--location ID`, or `--near LAT,LON [--within KM]`: where a question is asked."""
    t = i18n.text
    one = sub.add_mutually_exclusive_group()
    one.add_argument("--location", type=_typed(parsing.identifier), help=t("cli.arg.location"))
    one.add_argument("--near", type=_typed(_point), help=t("cli.arg.near"))
    sub.add_argument("--within", type=_typed(_within), help=t("cli.arg.within"))


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wraps a parser so argparse reports its localized message as a usage error.

    Every argument is first held to LONGEST_ARGUMENT characters of valid UTF-8, so no
    reader meets a megabyte, and no message echoes one.
    """

    def convert(text: str) -> Any:
        try:
            if len(text) > LONGEST_ARGUMENT:
                raise BadInput("error.argument_too_long", start=text[:20], most=LONGEST_ARGUMENT)
            if any("\ud800" <= c <= "\udfff" for c in text):  # os.fsdecode of bad bytes
                raise BadInput("error.not_utf8", value=parsing.visible(text))
            return parse(text)
        except BadInput as error:
            raise argparse.ArgumentTypeError(i18n.text(error.key, **error.params)) from None

    convert.__name__ = parse.__name__
    return convert


def _weekdays(text: str) -> frozenset[int]:
    """Reads `mon,wed`: English weekday abbreviations, comma-separated."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown or not names:
        raise BadInput("error.not_a_weekday", value=",".join(unknown) or text)
    return frozenset(WEEKDAYS.index(name) for name in names)


def _least(text: str) -> timedelta:
    """Reads a hole's least length: longer than zero, at most LONGEST_HOLE."""
    value = parsing.duration(text)
    if not value:
        raise BadInput("error.not_positive", value=text)
    if value > LONGEST_HOLE:
        raise BadInput(
            "error.too_long_a_hole", value=text, most=parsing.format_duration(LONGEST_HOLE)
        )
    return value


def _whole(text: str, least: int, most: int) -> int:
    """Reads ASCII digits making a number from `least` to `most`."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        raise BadInput("error.not_in_range", value=text, least=least, most=most)
    value = int(text)
    if not least <= value <= most:
        raise BadInput("error.not_in_range", value=text, least=least, most=most)
    return value


def _point(text: str) -> tuple[float, float]:
    """Reads `--near LAT,LON`: decimal degrees, latitude within ±90, longitude within ±180."""
    lat, _, lon = text.replace(" ", "").partition(",")
    if not (DEGREES.fullmatch(lat) and DEGREES.fullmatch(lon)):
        raise BadInput("error.not_a_point", value=text)
    if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
        raise BadInput("error.not_a_point", value=text)
    return float(lat), float(lon)


def _within(text: str) -> float:
    """Reads `--within KM`: a distance in kilometres, more than 0 and at most FARTHEST_KM."""
    if not DISTANCE.fullmatch(text) or not 0 < float(text) <= FARTHEST_KM:
        raise BadInput("error.not_a_distance", value=text, most=int(FARTHEST_KM))
    return float(text)


def _limit(text: str) -> int:
    """Reads `search --limit`: 1 to MOST_LISTED."""
    return _whole(text, 1, MOST_LISTED)


def _offset(text: str) -> int:
    """Reads `search --offset`: 0 to MOST_SKIPPED."""
    return _whole(text, 0, MOST_SKIPPED)


def _port(text: str) -> int:
    """Reads a TCP port: 1 to 65535."""
    return _whole(text, 1, 65535)


def _booking_id(text: str) -> int:
    """Reads a booking id: ASCII digits; one no booking can have is not found, not an error."""
    if not (text.isascii() and text.isdigit()):
        raise BadInput("error.not_a_booking_id", value=text)
    if len(text.lstrip("0")) > len(str(LAST_BOOKING_ID)) or not (0 < int(text) <= LAST_BOOKING_ID):
        raise BadInput("error.unknown_booking", id=text)
    return int(text)


def _start(text: str) -> str:
    """Checks `book --start`: a local or an offset date-time within the years taken in.

    The text itself is kept: `_book` places a local time in the specialist's zone.
    """
    value = (
        parsing.local_datetime(text) if parsing.LOCAL.match(text.strip()) else parsing.instant(text)
    )
    parsing.in_years(value, text)
    return text


def _language(text: str) -> str:
    """Reads a language that has a locale file."""
    if text not in i18n.languages():
        raise BadInput("error.unknown_language", value=text, known=", ".join(i18n.languages()))
    return text


def _host(text: str) -> str:
    """Reads an address to listen on: a host name or an IP address."""
    if not HOST.match(text):
        raise BadInput("error.not_a_host", value=text)
    return text


def _database_url(text: str) -> str:
    """Checks a database URL before it is opened: its form, its port, a SQLite file's folder."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(text)
        port = url.port
    except Exception as error:  # SQLAlchemy names many kinds of bad URL differently
        raise BadInput("error.bad_database_url", url=text, detail=str(error)) from None
    if port is not None and not 0 < port <= 65535:
        raise BadInput("error.bad_database_port", url=text, port=port)
    database = url.database or ""
    if (
        url.get_backend_name() == "sqlite"
        and database != ":memory:"
        and not (database.startswith("file:") or not database)
    ):
        folder = Path(database).parent
        if not folder.is_dir():
            raise BadInput("error.no_database_folder", url=text, folder=str(folder))
        if Path(database).is_dir():
            raise BadInput("error.database_is_a_folder", url=text, path=database)
    return text


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
    return {"imported": report.__dict__, "message": i18n.text("cli.demo_loaded", db=db.url)}


async def _import(args: argparse.Namespace, db: Database) -> dict:
    from bookbot import clinic_file, config
    from bookbot.services import clinic

    report = await clinic.import_clinic(
        db,
        clinic_file.read_file(args.file),
        _now(args),
        provider=config.load().payment_token is not None,
    )
    return {
        "imported": report.__dict__,
        "message": i18n.text(
            "cli.imported",
            changed=report.changed,
            **{k: v for k, v in report.__dict__.items() if k != "changed"},
        ),
    }


async def _export(args: argparse.Namespace, db: Database) -> str:
    from bookbot import clinic_file
    from bookbot.services import clinic

    return clinic_file.dump(await clinic.export_clinic(db))


async def _where(args: argparse.Namespace, db: Database) -> Where | None:
    """The places the question names (`--location`, `--near`, `--within`), if any."""
    from bookbot.services import places

    return await places.where(db, args.location, args.near, args.within)


def _placed(answer: Any, where: Where | None) -> Any:
    """An answer with the distances of its places when asked near a point."""
    return output.Placed(answer, where.km) if where is not None and where.km else answer


async def _slots(args: argparse.Namespace, db: Database) -> Any:
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


async def _next(args: argparse.Namespace, db: Database) -> Any:
    from bookbot.services import availability, directory

    if args.each and args.specialist:
        raise BadInput("error.each_with_specialist")
    where = await _where(args, db)
    if args.each:
        days = await directory.soonest_days(db, _now(args), args.service, args.first, where)
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


async def _bookings(args: argparse.Namespace, db: Database) -> list[Booking]:
    from bookbot.services import bookings

    return await bookings.list_bookings(
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
