"""python -m calibration <step> ...: one subcommand per step, each writing one file into the room folder.

    python -m calibration camera --images "DIR/*.jpg" --board 9x6 --square 0.025
    python -m calibration screen [--markers] ...
    python -m calibration projector ...
    python -m calibration zone ...
    python -m calibration learn --minutes 10 | --source PATH
    python -m calibration show            # what the room folder holds, validated

Every step accepts `--room DIR` (default calibration/room/). Errors are one line, exit 2, and
nothing saved before is overwritten.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from calibration import files
from calibration.files import DEFAULT_ROOM, CalibrationError

# Each module has `add_parser(subparsers) -> None`, setting `func(args) -> int` on its parser.
STEP_MODULES = ("camera", "screen", "projector", "zone", "learn", "room")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m calibration", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="step", required=True)
    for name in STEP_MODULES:
        try:
            module = importlib.import_module(f"calibration.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"calibration.{name}":
                continue  # a step not built yet
            raise
        module.add_parser(sub)
    for p in sub.choices.values():
        if not any(a.dest == "room" for a in p._actions):
            p.add_argument("--room", type=Path, default=DEFAULT_ROOM, help="installation folder")
    return ap


def main(argv: list[str] | None = None) -> int:
    files.COMMAND = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CalibrationError as e:
        print(f"calibration error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
