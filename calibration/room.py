"""An installation folder as the engine sees it: every step's file loaded and validated, or None.

The engine loads the room once at start (`--calibration DIR`, `[run] calibration`): a missing file is
no correction for that step, a bad one is a ConfigError naming the file and key (exit 2), so a typo
made on the install day shows before the doors open rather than as a skewed picture.
`python -m calibration show` prints the same view for the artist.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from calibration.files import STEPS, load

# step file → the module whose `validate(data, where)` reads it (ranges.json is written by `learn`)
READERS = {
    "camera": "camera",
    "screen": "screen",
    "projector": "projector",
    "zone": "zone",
    "ranges": "learn",
}


@dataclass(frozen=True)
class Room:
    folder: Path | None = None
    camera: Any = None  # calibration.camera.CameraCalibration
    screen: Any = None  # calibration.screen.ScreenCalibration
    projector: Any = None  # calibration.projector.ProjectorCalibration
    zone: Any = None  # calibration.zone.Zone
    ranges: Any = None  # calibration.learn.Ranges

    def active(self) -> list[str]:
        """The steps whose file is in use, for the HUD and status ("camera screen zone")."""
        return [f.name for f in fields(self) if f.name != "folder" and getattr(self, f.name) is not None]


def _validator(step: str):
    try:
        return importlib.import_module(f"calibration.{READERS[step]}").validate
    except ModuleNotFoundError as e:
        if e.name == f"calibration.{READERS[step]}":
            return None  # a step this build does not have yet: its file is left alone
        raise


def load_room(folder: str | Path | None) -> Room:
    """Every step's file in `folder`; None or "" is no calibration at all. Raises CalibrationError."""
    if not folder:
        return Room()
    folder = Path(folder)
    if not folder.is_dir():
        from calibration.files import CalibrationError

        raise CalibrationError(
            f"{folder}: no such calibration folder (make one with `python -m calibration camera ...`)"
        )
    values: dict[str, Any] = {}
    for step in STEPS:
        validate = _validator(step)
        if validate is not None:
            values[step] = load(folder, step, validate)
    return Room(folder=folder, **values)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="list the room folder's calibration files, validated")
    p.set_defaults(func=_show)


def _show(args: argparse.Namespace) -> int:
    room = load_room(args.room) if Path(args.room).is_dir() else Room(folder=Path(args.room))
    for step in STEPS:
        value = getattr(room, step)
        print(f"{step:10s} {'in use' if value is not None else 'none (no correction)'}")
    return 0
