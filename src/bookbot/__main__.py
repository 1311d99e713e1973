"""Runs the command line: `python -m bookbot`."""

from bookbot.cli import main

raise SystemExit(main())
