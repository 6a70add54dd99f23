"""Doctor checks of what the piece looks at: the cameras that deliver frames, and the configured source.

Cameras are opened and read for real (one frame, never kept: privacy), in a thread with a timeout,
because a driver can list a camera that then blocks or stays silent. No camera is a WARN, not a FAIL:
the piece then runs in attract mode.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from engine.doctor.base import FAIL, OK, WARN, Check

if TYPE_CHECKING:
    from engine.config import Config

CAMERA_INDICES = range(4)


def _probe_camera(index: int, timeout: float = 5.0) -> tuple[int, int] | None:
    """Open camera `index` and read one frame (never kept); None if absent, silent or blocking."""
    from engine.sources.capture import opencv_capture

    found: list[tuple[int, int]] = []

    def probe() -> None:
        cap = opencv_capture(index)
        try:
            ok, image = cap.read() if cap.isOpened() else (False, None)
            if ok and image is not None:
                found.append((image.shape[1], image.shape[0]))
        finally:
            cap.release()

    t = threading.Thread(target=probe, name=f"doctor-camera-{index}", daemon=True)
    t.start()
    t.join(timeout)
    return found[0] if found else None


def check_cameras(cfg: Config) -> list[Check]:
    found = {i: size for i in CAMERA_INDICES if (size := _probe_camera(i)) is not None}
    out = []
    if found:
        sizes = ", ".join(f"{i} ({w}x{h})" for i, (w, h) in found.items())
        out.append(Check("cameras", OK, f"delivering frames: {sizes}"))
    else:
        span = f"{CAMERA_INDICES[0]}..{CAMERA_INDICES[-1]}"
        out.append(Check("cameras", WARN, f"none at {span}: the piece runs in attract mode (it drifts)"))
    src = cfg.run.source.strip()
    if src.isdigit() and len(src) == 1:
        if int(src) in found:
            out.append(Check("source", OK, f"camera {src} delivers frames"))
        else:
            out.append(
                Check("source", WARN, f"run.source = camera {src} not found: attract mode until it is")
            )
    return out


def check_source(cfg: Config) -> list[Check]:
    from engine.clock import FixedStepClock
    from engine.sources import SourceError, open_source

    spec = cfg.run.source.strip()
    if spec.isdigit() and len(spec) == 1:
        return []  # a camera: check_cameras tried it
    try:
        src = open_source(spec, FixedStepClock(30), width=cfg.camera.width, height=cfg.camera.height)
        try:
            frame = next(iter(src.frames(1)), None)
        finally:
            src.close()
    except SourceError as e:
        return [Check("source", FAIL, str(e))]
    if frame is None:
        return [Check("source", FAIL, f"run.source = '{spec}' opens but gives no frame")]
    h, w = frame.image.shape[:2]
    return [Check("source", OK, f"'{spec}' gives frames ({w}x{h})")]
