"""The clinic file (YAML or JSON) to engine values and back, with problems named by path.

`read` and `read_file` check a file whole against spec/clinic-file.md and spec/policy.md
(reading.py, one value at a time in values.py, the YAML itself in loading.py); `dump`
writes a clinic back so that it reads to the same values (writing.py).
"""

from __future__ import annotations

from bookbot.clinic_file.loading import LARGEST_FILE, load_text
from bookbot.clinic_file.reading import Clinic, parse, read, read_file
from bookbot.clinic_file.writing import document, dump

__all__ = ["LARGEST_FILE", "Clinic", "document", "dump", "load_text", "parse", "read", "read_file"]
