"""A JSON clinic file read as it is imported: its head whole, then its bookings in chunks.

Only a file without a problem is streamed to its end: at the first problem, or where
the file is not JSON that reads as YAML reads it, `Reread` is raised, and the caller
undoes what it wrote and reads the file whole (`read_file`), which names every problem
as it always has. Across chunks only `Compact` is kept: three integers a booking.

A large file is read in a helper process where asked (SQLite), which hands the chunks
over through a pipe: reading took a size-a import ~30 s of its ~100 s on SQLite, side by
side with writing in one process the two only took turns with Python's lock, and a
second core does it meanwhile. The helper reads as this process would (the same
`_here`), so the chunks, the problems and the `Reread` are the same.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from msgspec.structs import astuple

from bookbot.clinic_file.bookings import Compact, Lines
from bookbot.clinic_file.loading import LARGEST_STREAMED
from bookbot.clinic_file.reading import Clinic, _Reader, parse_head
from bookbot.clinic_file.streaming import JsonFile, NotPlain
from bookbot.engine.model import Booking
from bookbot.errors import BadInput, Invalid

Packed = tuple[list[int], list[tuple[Any, ...]]]  # a chunk as sent (`_packed`)
CHUNK = 20_000  # bookings handed over at a time
IN_HELPER = 32 * 2**20  # bytes of a file read in a helper process (~150,000 bookings)


class Reread(Exception):
    """Read the file whole instead: it has a problem, or is not plain JSON."""


class Streamed:
    """A clinic file opened for streaming; `clinic` holds all but the bookings.

    Usage: `with Streamed(path) as source: ... source.clinic ...; for chunk in
    source.chunks(): ...` — each chunk (file index, booking) in file order; when the
    loop ends the whole file was read and found without problem.
    """

    clinic: Clinic  # read on entering

    def __init__(self, path: Path) -> None:
        self.file = JsonFile(path)
        self.reader = _Reader()
        self.count = 0  # bookings read so far
        self.compact = Compact()  # what the lines read so far hold together
        self.size = 0
        self.chunk = CHUNK  # bookings a chunk
        self.helper: BaseProcess | None = None  # the helper process reading, while it runs

    def __enter__(self) -> Streamed:
        try:
            self.size = size = self.file.path.stat().st_size
            self.file.__enter__()
        except OSError:
            raise Reread from None
        if size > LARGEST_STREAMED:
            self.file.__exit__()
            raise BadInput("file.too_large", most=LARGEST_STREAMED // 2**20)
        try:
            head = self._read(self.file.head)
            self.clinic = parse_head(self.reader, head)
        except (Invalid, Reread):
            self.file.__exit__()
            raise Reread from None
        if self.reader.problems or head.get("bookings") is not None:  # not a list
            self.file.__exit__()
            raise Reread
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.__exit__()
        if self.helper is not None:  # left reading when the import stopped early
            _stop(self.helper)

    def busy(self, specialist: str) -> tuple[Sequence[int], Sequence[int]]:
        """The starts and the ends (UTC epoch microseconds) of a specialist's live bookings
        in the file, once `chunks` has read it all."""
        return self.compact.starts.get(specialist, ()), self.compact.ends.get(specialist, ())

    def _read(self, step: object) -> dict:
        try:
            return step()  # type: ignore[operator, no-any-return]
        except (NotPlain, UnicodeDecodeError, OSError):
            raise Reread from None

    def chunks(self, helper: bool = False) -> Iterator[list[tuple[int, Booking]]]:
        """The bookings, CHUNK at a time; raises Reread at the first problem.

        With `helper`, a file of IN_HELPER bytes or more is read in a helper process,
        where there is a second core. A caller whose writes are a database server's work
        reads in a thread instead: a helper would take the server's core.
        """
        if helper and self.size >= IN_HELPER and len(os.sched_getaffinity(0)) > 1:
            return self._there()
        return self._here()

    def _there(self) -> Iterator[list[tuple[int, Booking]]]:
        """The chunks as a helper process reads them; then what they hold together."""
        spawn = multiprocessing.get_context("spawn")  # forking copies a loop and threads
        pipe, end = spawn.Pipe(duplex=False)
        helper = spawn.Process(
            target=_read, args=(str(self.file.path), self.chunk, end), daemon=True
        )
        helper.start()
        self.helper = helper
        end.close()
        try:
            while True:
                try:
                    kind, value = pipe.recv()
                except EOFError:
                    raise RuntimeError("the process reading the file stopped") from None
                if kind == "chunk":
                    chunk = _unpacked(value)
                    self.count += len(chunk)
                    yield chunk
                elif kind == "reread":
                    raise Reread
                elif kind == "failed":
                    raise RuntimeError(f"reading the file failed: {value}")
                else:
                    starts, ends = value
                    self.compact.starts.update(starts)
                    self.compact.ends.update(ends)
                    return
        finally:
            pipe.close()
            _stop(helper)
            self.helper = None

    def _here(self) -> Iterator[list[tuple[int, Booking]]]:
        """The chunks as this process reads them."""
        reader, clinic = self.reader, self.clinic
        lines = Lines(reader, clinic.business, list(clinic.services), list(clinic.specialists))
        compact = self.compact
        chunk: list[tuple[int, Booking]] = []
        lines_of = self.file.bookings()
        index = 0
        while True:
            try:
                line = next(lines_of)
            except StopIteration:
                break
            except (NotPlain, UnicodeDecodeError, OSError):
                raise Reread from None
            booking = lines.quick(line) if line.__class__ is dict else None
            if booking is None:
                where = f"bookings[{index}]"
                if reader.mapping(line, where, "booking") is None:
                    raise Reread
                booking_id, booking = lines.read(where, line)
                if reader.problems:
                    raise Reread
                compact.add_id(booking_id)
            if booking is not None:
                compact.add(booking)
                chunk.append((index, booking))
                if len(chunk) >= self.chunk:
                    self.count += len(chunk)
                    yield chunk
                    chunk = []
            index += 1
        if set(self._read(self.file.rest)) - {"payments"} or not compact.clean():
            raise Reread
        self.count += len(chunk)
        if chunk:
            yield chunk


def _packed(chunk: list[tuple[int, Booking]]) -> Packed:
    """A chunk as its file indexes and its bookings' fields column by column, to send.

    Most fields are then references to a value pickled once a chunk (the reader hands out
    one object per instant, id and status), and `_unpacked` makes the bookings in one
    call each: 17 ms a chunk of 20,000 instead of 29 ms to unpickle the bookings.
    """
    return [index for index, _ in chunk], list(zip(*(astuple(b) for _, b in chunk), strict=True))


def _unpacked(value: Packed) -> list[tuple[int, Booking]]:
    """The chunk `_packed` sent."""
    indexes, columns = value
    return list(zip(indexes, map(Booking, *columns), strict=True))


def _stop(helper: BaseProcess) -> None:
    """Ends a helper process: at once if it still reads (the import stopped early)."""
    if helper.is_alive():
        helper.terminate()
    helper.join()


def _read(path: str, size: int, pipe: Connection) -> None:
    """A helper process's work: sends each chunk of a file, then its busy time, or why not."""
    try:
        with Streamed(Path(path)) as source:
            source.chunk = size
            for chunk in source._here():
                pipe.send(("chunk", _packed(chunk)))
            pipe.send(("end", (dict(source.compact.starts), dict(source.compact.ends))))
    except Reread:
        pipe.send(("reread", None))
    except BrokenPipeError:
        pass  # the importing process stopped: no one is left to tell
    except Exception as error:  # told to the importing process, which raises it
        pipe.send(("failed", f"{error.__class__.__name__}: {error}"))
    finally:
        pipe.close()
