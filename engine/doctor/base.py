"""What every doctor check shares: the result line, its three levels, and errors as one line.

A check never prints and never raises on a known problem: it returns Check lines, so the report can
sort, count and print them as text or JSON, and a check that breaks anyway still ends as one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass
class Check:
    name: str
    level: str
    detail: str
    seconds: float = 0.0


def first_line(e: BaseException) -> str:
    """An exception as one report line: a gallery technician reads the cause, never a traceback."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")
