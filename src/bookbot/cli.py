"""The `bookbot` command: parses arguments, calls one use case, prints the answer."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bookbot import booking, clinic_file, config, directory, i18n, parsing
from bookbot.engine.days import zone
from bookbot.engine.model import WEEKDAYS, Booking, Client, DayResult, Hole, Slot
from bookbot.errors import BadInput, BookbotError, Invalid
from bookbot.store.db import DEFAULT_URL, Database

Handler = Callable[[argparse.Namespace, Database], Any]


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
    except BookbotError as error:
        print(i18n.text("cli.error", message=i18n.text(error.key, **error.params)),
              file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace) -> int:
    db = Database(args.db)
    try:
        result = await args.handler(args, db)
    finally:
        await db.close()
    if result is not None:
        _print(args, result)
    return 0


# -- arguments -------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one localized line on a usage error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(i18n.text("cli.error", message=message), file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    t = i18n.text
    parser = _Parser(prog="bookbot", description=t("cli.help.bookbot"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, handler: Handler) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=t(f"cli.help.{name}"),
                                  description=t(f"cli.help.{name}"))
        sub.add_argument("--db", default=os.environ.get("BOOKBOT_DATABASE_URL", DEFAULT_URL),
                         help=t("cli.arg.db"))
        sub.add_argument("--json", action="store_true", help=t("cli.arg.json"))
        sub.add_argument("--now", type=_typed(parsing.instant), help=t("cli.arg.now"))
        sub.set_defaults(handler=handler, blocking=False)
        return sub

    command("demo", _demo)
    sub = command("import", _import)
    sub.add_argument("file", type=Path, help=t("cli.arg.file"))
    command("export", _export)

    sub = command("slots", _slots)
    sub.add_argument("--specialist", help=t("cli.arg.specialist"))
    sub.add_argument("--service", help=t("cli.arg.service"))
    sub.add_argument("--date", required=True, type=_typed(parsing.calendar_date),
                     help=t("cli.arg.date"))
    sub.add_argument("--to", type=_typed(parsing.calendar_date), help=t("cli.arg.to"))

    sub = command("next", _next)
    sub.add_argument("--service", required=True, help=t("cli.arg.service"))
    sub.add_argument("--specialist", help=t("cli.arg.specialist"))
    sub.add_argument("--from", dest="first", type=_typed(parsing.calendar_date),
                     help=t("cli.arg.from"))
    sub.add_argument("--each", action="store_true", help=t("cli.arg.each"))

    sub = command("holes", _holes)
    sub.add_argument("--service", required=True, help=t("cli.arg.service"))
    sub.add_argument("--from", dest="first", required=True,
                     type=_typed(parsing.calendar_date), help=t("cli.arg.from"))
    sub.add_argument("--to", required=True, type=_typed(parsing.calendar_date),
                     help=t("cli.arg.to"))
    sub.add_argument("--weekday", type=_typed(_weekdays), help=t("cli.arg.weekday"))
    sub.add_argument("--min", dest="least", type=_typed(_positive), help=t("cli.arg.min"))

    sub = command("search", _search)
    sub.add_argument("--service", required=True, help=t("cli.arg.service"))
    sub.add_argument("--limit", type=_typed(_count), default=20, help=t("cli.arg.limit"))
    sub.add_argument("--offset", type=_typed(_count), default=0, help=t("cli.arg.offset"))

    command("reindex", _reindex)

    sub = command("book", _book)
    sub.add_argument("--specialist", required=True, help=t("cli.arg.specialist"))
    sub.add_argument("--service", required=True, help=t("cli.arg.service"))
    sub.add_argument("--start", required=True, help=t("cli.arg.start"))
    sub.add_argument("--client-name", help=t("cli.arg.client_name"))
    sub.add_argument("--client-phone", help=t("cli.arg.client_phone"))

    sub = command("cancel", _cancel)
    sub.add_argument("id", type=_typed(_booking_id), help=t("cli.arg.id"))
    sub.add_argument("--reason", help=t("cli.arg.reason"))

    sub = command("try", _try)
    sub.add_argument("--language", default=None, help=t("cli.arg.language"))
    command("run", _run_bot).set_defaults(blocking=True)
    sub = command("serve", _serve)
    sub.set_defaults(blocking=True)
    sub.add_argument("--host", default="0.0.0.0", help=t("cli.arg.host"))
    sub.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")),
                     help=t("cli.arg.port"))
    command("migrate", _migrate)
    command("deliver", _deliver)

    sub = command("bookings", _bookings)
    sub.add_argument("--specialist", help=t("cli.arg.specialist"))
    sub.add_argument("--from", dest="first", type=_typed(parsing.calendar_date),
                     help=t("cli.arg.from"))
    sub.add_argument("--to", type=_typed(parsing.calendar_date), help=t("cli.arg.to"))
    return parser


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wraps a parser so argparse reports its localized message as a usage error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except BadInput as error:
            raise argparse.ArgumentTypeError(i18n.text(error.key, **error.params)) from None

    convert.__name__ = parse.__name__
    return convert


def _weekdays(text: str) -> frozenset[int]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown or not names:
        raise BadInput("error.not_a_weekday", value=",".join(unknown) or text)
    return frozenset(WEEKDAYS.index(name) for name in names)


def _positive(text: str) -> Any:
    value = parsing.duration(text)
    if not value:
        raise BadInput("error.not_positive", value=text)
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise BadInput("error.not_a_count", value=text)
    return int(text)


def _booking_id(text: str) -> int:
    if not text.isdigit():
        raise BadInput("error.not_a_booking_id", value=text)
    return int(text)


def _now(args: argparse.Namespace) -> datetime:
    return args.now or datetime.now(UTC)


# -- commands --------------------------------------------------------------------------


async def _demo(args: argparse.Namespace, db: Database) -> dict:
    from bookbot.demo import clinic

    report = await booking.import_clinic(db, clinic(_now(args)))
    return {"imported": report.__dict__, "message": i18n.text("cli.demo_loaded", db=db.url)}


async def _import(args: argparse.Namespace, db: Database) -> dict:
    report = await booking.import_clinic(db, clinic_file.read_file(args.file), _now(args))
    return {"imported": report.__dict__,
            "message": i18n.text("cli.imported", changed=report.changed, **{
                k: v for k, v in report.__dict__.items() if k != "changed"})}


async def _export(args: argparse.Namespace, db: Database) -> str:
    return clinic_file.dump(await booking.export_clinic(db))


async def _slots(args: argparse.Namespace, db: Database) -> list[Slot]:
    if not args.specialist and not args.service:
        raise BadInput("error.need_service_or_specialist")
    if not args.specialist:
        return await directory.free_slots(db, _now(args), args.service, args.date,
                                          args.to or args.date)
    return await booking.free_slots(db, _now(args), args.date, args.to or args.date,
                                    service=args.service, specialist=args.specialist)


async def _next(args: argparse.Namespace, db: Database) -> Any:
    if args.each:
        if args.specialist:
            raise BadInput("error.each_with_specialist")
        return await directory.soonest_days(db, _now(args), args.service, args.first)
    if args.specialist:
        found = await booking.soonest_slot(db, _now(args), args.service,
                                           specialist=args.specialist, first=args.first)
    else:
        found = await directory.soonest_slot(db, _now(args), args.service, args.first)
    return found if found is not None else _Nothing()


async def _holes(args: argparse.Namespace, db: Database) -> list[Hole]:
    return await directory.holes(db, _now(args), args.service, args.first, args.to,
                                 weekdays=args.weekday, least=args.least)


async def _search(args: argparse.Namespace, db: Database) -> list[directory.Listing]:
    return await directory.search_page(db, _now(args), args.service, args.limit, args.offset)


async def _reindex(args: argparse.Namespace, db: Database) -> dict:
    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty() or done == total:
            end = "\n" if done == total else "\r"
            print(i18n.text("cli.reindexing", done=done, total=total), end=end,
                  file=sys.stderr, flush=True)

    count = await directory.reindex(db, _now(args), progress)
    return {"imported": {"reindexed": count},
            "message": i18n.text("cli.reindexed", count=count, db=db.url)}


async def _book(args: argparse.Namespace, db: Database) -> Booking:
    start = parsing.local_or_instant(
        args.start, zone(await booking.specialist_zone(db, args.specialist)))
    client = None
    if args.client_name or args.client_phone:
        client = Client(name=args.client_name, phone=args.client_phone)
    return await booking.book(db, _now(args), args.specialist, args.service, start, client)


async def _cancel(args: argparse.Namespace, db: Database) -> Booking:
    return await booking.cancel(db, _now(args), args.id, by="operator", reason=args.reason)


async def _bookings(args: argparse.Namespace, db: Database) -> list[Booking]:
    return await booking.list_bookings(db, specialist=args.specialist, first=args.first,
                                       last=args.to)


async def _try(args: argparse.Namespace, db: Database) -> None:
    from bookbot.bot.play import play

    lang = i18n.choose(args.language, os.environ.get("LANG"))
    clock = (lambda: args.now) if args.now else (lambda: datetime.now(UTC))
    await play(db.url, lang, clock=clock)


def _serve(args: argparse.Namespace) -> None:
    """Serves the webhook and the web pages; needs the token and the secret."""
    from bookbot.bot.app import serve

    settings = replace(config.load(), database_url=args.db)
    settings.require_token()
    if not settings.secret:
        raise BadInput("error.no_secret")
    serve(settings, args.host, args.port)


async def _deliver(args: argparse.Namespace, db: Database) -> dict:
    from telegram import Bot

    from bookbot.notify import delivery

    settings = replace(config.load(), database_url=args.db)
    base = (settings.api_url or "https://api.telegram.org/bot").rstrip("/")
    async with Bot(settings.require_token(), base_url=base) as bot:
        outcome = await delivery.deliver(bot, db, settings, _now(args))
    return {"imported": dict(outcome), "message": i18n.text(
        "cli.delivered", sent=outcome["sent"], other=sum(outcome.values()) - outcome["sent"])}


async def _migrate(args: argparse.Namespace, db: Database) -> dict:
    await db.prepare()
    return {"imported": {"migrated": True}, "message": i18n.text("cli.migrated", db=db.url)}


def _run_bot(args: argparse.Namespace) -> None:
    """Polls Telegram until interrupted; run_polling owns its event loop, so this is sync."""
    from bookbot.bot.app import run

    settings = replace(config.load(), database_url=args.db)
    settings.require_token()
    run(settings)


# -- output ----------------------------------------------------------------------------


class _Nothing:
    """An answer of `null` in JSON and a sentence in a table."""


def as_json(value: Any) -> Any:
    """The JSON shape of an answer, as spec/cli.md gives it."""
    if isinstance(value, _Nothing):
        return None
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, Slot | Hole):
        return {"specialist": value.specialist, "start": value.start.isoformat(),
                "end": value.end.isoformat()}
    if isinstance(value, DayResult):
        return {"specialist": value.specialist,
                "date": value.day.isoformat() if value.day else None,
                "slots": [{"start": s.start.isoformat(), "end": s.end.isoformat()}
                          for s in value.slots]}
    if isinstance(value, directory.Listing):
        found = as_json(value.result)
        return {"specialist": found["specialist"], "name": value.name, "date": found["date"],
                "slots": found["slots"]}
    if isinstance(value, Booking):
        return {"id": value.id, "specialist": value.specialist, "service": value.service,
                "start": value.start.isoformat(), "end": value.end.isoformat(),
                "status": str(value.status)}
    return value


def _print(args: argparse.Namespace, result: Any) -> None:
    if isinstance(result, str):
        sys.stdout.write(result)
    elif args.json:
        payload = as_json(result)
        if isinstance(payload, dict) and "message" in payload:
            payload = payload["imported"]
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(_table(result))


def _table(result: Any) -> str:
    t = i18n.text
    if isinstance(result, dict):
        return result["message"]
    if isinstance(result, _Nothing):
        return t("cli.none_found")
    rows = result if isinstance(result, list) else [result]
    if not rows:
        return t("cli.none_found")
    first = rows[0]
    if isinstance(first, Booking):
        header = ["id", "specialist", "service", "start", "end", "status"]
        lines = [[str(b.id), b.specialist, b.service, _short(b.start), _short(b.end),
                  str(b.status)] for b in rows]
    elif isinstance(first, DayResult):
        header = ["specialist", "date", "slots"]
        lines = [[r.specialist, r.day.isoformat() if r.day else "-",
                  " ".join(s.start.strftime("%H:%M") for s in r.slots)] for r in rows]
    elif isinstance(first, directory.Listing):
        header = ["specialist", "name", "date", "slots"]
        lines = [[r.result.specialist, r.name, r.result.day.isoformat() if r.result.day else "-",
                  " ".join(s.start.strftime("%H:%M") for s in r.result.slots)] for r in rows]
    else:
        header = ["specialist", "start", "end"]
        lines = [[r.specialist, _short(r.start), _short(r.end)] for r in rows]
    header = [t(f"cli.column.{name}") for name in header]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *lines]
    )


def _short(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M %z")

