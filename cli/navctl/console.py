"""Where navctl writes: stdout for results, stderr for errors, warnings and notes."""

from __future__ import annotations

import sys


def out(text: str) -> None:
    """Write to stdout, flushed (watches and progress lines must show at once)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def err(text: str) -> None:
    """Write one line to stderr (a final newline is added when missing), flushed."""
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()
