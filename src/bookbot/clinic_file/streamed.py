"""A JSON clinic file read as it is imported: its head whole, then its bookings in chunks.

Only a file without a problem is streamed to its end: at the first problem, or where
the file is not JSON that reads as YAML reads it, `Reread` is raised, and the caller
undoes what it wrote and reads the file whole (`read_file`), which names every problem
as it always has. Across chunks only `Compact` is kept: three integers a booking.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from bookbot.clinic_file.bookings import Compact, Lines
from bookbot.clinic_file.loading import LARGEST_STREAMED
from bookbot.clinic_file.reading import Clinic, _Reader, parse_head
from bookbot.clinic_file.streaming import JsonFile, NotPlain
from bookbot.engine.model import Booking
from bookbot.errors import BadInput, Invalid

CHUNK = 20_000  # bookings handed over at a time


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

    def __enter__(self) -> Streamed:
        try:
            size = self.file.path.stat().st_size
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

    def busy(self, specialist: str) -> tuple[Sequence[int], Sequence[int]]:
        """The starts and the ends (UTC epoch microseconds) of a specialist's live bookings
        in the file, once `chunks` has read it all."""
        return self.compact.starts.get(specialist, ()), self.compact.ends.get(specialist, ())

    def _read(self, step: object) -> dict:
        try:
            return step()  # type: ignore[operator, no-any-return]
        except (NotPlain, UnicodeDecodeError, OSError):
            raise Reread from None

    def chunks(self) -> Iterator[list[tuple[int, Booking]]]:
        """The bookings, CHUNK at a time; raises Reread at the first problem."""
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
                if len(chunk) >= CHUNK:
                    self.count += len(chunk)
                    yield chunk
                    chunk = []
            index += 1
        if set(self._read(self.file.rest)) - {"payments"} or not compact.clean():
            raise Reread
        self.count += len(chunk)
        if chunk:
            yield chunk
