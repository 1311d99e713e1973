"""/location for admins: a chain's places, and who works where.

`/location` lists the places; `add`, `rename` and `address` change them; `set` puts a
specialist, their weekly days or one date's hours at a place and answers with the week as
it now stands. Each parses its arguments (arguments.py), calls one use case
(services/places.py) and renders the answer (views.py).
"""

from __future__ import annotations

from datetime import timedelta

from bookbot.bot import arguments, outbox, views
from bookbot.bot.handlers.staff import Call
from bookbot.errors import BadInput
from bookbot.services import catalog, places, schedules

WEEK = timedelta(days=6)


async def command(call: Call) -> None:
    """`/location [add|rename|address|set …]`."""
    if not call.args:
        found = await places.locations(call.deps.db, call.actor)
        await call.reply(views.locations(found, call.lang))
        return
    sub, rest = call.args[0].lower(), call.args[1:]
    if sub not in _SUBCOMMANDS:
        raise BadInput("location.bad_subcommand", value=call.args[0])
    await _SUBCOMMANDS[sub](call, rest)


async def _add(call: Call, args: list[str]) -> None:
    place, based = await places.add_location(call.deps.db, call.actor, arguments.new_location(args))
    text = views.t(call.lang, "location.added", id=place.id, name=place.name)
    if based:
        text += "\n" + views.t(call.lang, "location.first", name=place.name, count=based)
    await call.reply(text)


async def _rename(call: Call, args: list[str]) -> None:
    place_id, name = arguments.named(args)
    done = await places.change_location(call.deps.db, call.actor, place_id, name=name)
    await call.reply(views.t(call.lang, "location.renamed", id=done.id, name=done.name))


async def _address(call: Call, args: list[str]) -> None:
    place_id, address, point = arguments.readdressed(args)
    done = await places.change_location(
        call.deps.db, call.actor, place_id, address=address, point=point
    )
    await call.reply(
        views.t(call.lang, "location.readdressed", name=done.name, address=done.address)
    )


async def _set(call: Call, args: list[str]) -> None:
    arguments.need(args, 2)
    found = await catalog.roster(call.deps.db)
    today = schedules.today(call.now, found.zones.get(args[0], found.timezone))
    asked = arguments.placing(args, today)
    done = await places.put(call.deps.db, call.now, call.actor, asked)
    outbox.wake(call.context)  # the moved visits' notices, offers to the waitlist
    first = asked.day or today
    shown = await schedules.view(
        call.deps.db, call.now, call.actor, asked.specialist, first, first + WEEK
    )
    await call.reply(views.placed(done, asked, call.lang) + "\n\n" + views.view(shown, call.lang))


_SUBCOMMANDS = {"add": _add, "rename": _rename, "address": _address, "set": _set}
