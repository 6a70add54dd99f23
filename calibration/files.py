"""One calibration file: its envelope (format, created, made_by), validation at load, and a safe save.

Every step's file has the same envelope so a stale file (an older `format`) or one from another step
is named before any number in it is used. Saving goes through a temporary file and a rename, and only
after the new content validated: a failed calibration never overwrites the good one from yesterday.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when a step's keys change meaning; older files then stop the start with one line
DEFAULT_ROOM = Path(__file__).resolve().parent / "room"
STEPS = (
    "camera",
    "screen",
    "projector",
    "zone",
    "ranges",
)  # file stems, in the order the engine applies them


class CalibrationError(ValueError):
    """One line naming the file (and key) and what is wrong: the CLI prints it and exits 2."""


def path_for(room: Path, step: str) -> Path:
    if step not in STEPS:
        raise CalibrationError(f"unknown calibration step '{step}' (one of {', '.join(STEPS)})")
    return Path(room) / f"{step}.json"


def envelope(step: str, made_by: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "step": step,
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "made_by": made_by,
        **body,
    }


def load(room: Path, step: str, validate: Callable[[dict, str], Any]) -> Any | None:
    """The step's validated content, or None when the file does not exist (no correction).

    `validate(data, where)` turns the raw dict into the step's typed object, raising CalibrationError
    whose message starts with `where` (the file name) and names the key."""
    path = path_for(room, step)
    if not path.exists():
        return None
    where = str(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise CalibrationError(f"{where}: unreadable ({e})") from None
    except json.JSONDecodeError as e:
        raise CalibrationError(f"{where}: not JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise CalibrationError(f"{where}: must hold a JSON object")
    if data.get("step") != step:
        raise CalibrationError(f"{where}: step is {data.get('step')!r}, expected '{step}'")
    if data.get("format") != FORMAT:
        raise CalibrationError(
            f"{where}: format {data.get('format')!r} is stale (this engine reads format {FORMAT}); "
            f"run `python -m calibration {step if step != 'ranges' else 'learn'}` again"
        )
    return validate(data, where)


def save(
    room: Path, step: str, made_by: str, body: Mapping[str, Any], validate: Callable[[dict, str], Any]
) -> Path:
    """Validate, then write atomically; the old file stays untouched when anything fails."""
    data = envelope(step, made_by, body)
    path = path_for(room, step)
    validate(json.loads(json.dumps(data)), str(path))  # what a later load will see
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{step}.", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


COMMAND: list[str] | None = None  # the arguments `python -m calibration` was given (set by its main)


def made_by(argv: list[str] | None = None) -> str:
    """What made a file: the command line, so a file says how to make it again. The dispatcher's own
    arguments win over the process's, so a step run from code records the step, not its caller."""
    if argv is None:
        argv = COMMAND if COMMAND is not None else sys.argv[1:]
    return "python -m calibration " + " ".join(argv)


# ------------------------------------------------------------------ field checks for validate()
def number(
    data: Mapping[str, Any], key: str, where: str, lo: float = -math.inf, hi: float = math.inf
) -> float:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise CalibrationError(f"{where}: {key} must be a finite number, got {v!r}")
    if not lo <= v <= hi:
        raise CalibrationError(f"{where}: {key} = {v} is outside {lo}..{hi}")
    return float(v)


def matrix(
    data: Mapping[str, Any], key: str, where: str, rows: int | None, cols: int | None
) -> list[list[float]]:
    """A list of rows of finite numbers, of the given shape (None: any length)."""
    v = data.get(key)
    ok = isinstance(v, list) and (rows is None or len(v) == rows) and len(v) > 0
    ok = ok and all(isinstance(r, list) and (cols is None or len(r) == cols) for r in v)
    ok = ok and all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for r in v for x in r
    )
    if not ok:
        shape = f"{rows or 'N'}×{cols or 'M'}"
        raise CalibrationError(f"{where}: {key} must be a {shape} list of finite numbers")
    return [[float(x) for x in r] for r in v]
