"""Sources: where frames come from (a camera, a video file, a still photo, the demo).

`open_source` turns the `--source` text of the command line into a source, so that the same
spelling works in the config file, on the command line and in tests.
"""

from __future__ import annotations

from pathlib import Path

from engine.clock import Clock, FixedStepClock
from engine.sources.base import PacedSource, Source, SourceError
from engine.sources.camera import CameraSource
from engine.sources.capture import Capture, CaptureFactory, opencv_capture
from engine.sources.capture_process import ProcessCapture, process_capture
from engine.sources.demo import DemoSource, demo_from_spec
from engine.sources.still import IMAGE_SUFFIXES, ImageSource, load_photo
from engine.sources.video import VIDEO_SUFFIXES, VideoSource

__all__ = [
    "Capture",
    "CaptureFactory",
    "CameraSource",
    "DemoSource",
    "ImageSource",
    "PacedSource",
    "ProcessCapture",
    "Source",
    "SourceError",
    "VideoSource",
    "check_source",
    "load_photo",
    "open_source",
    "opencv_capture",
    "process_capture",
]

SPEC_HELP = "a camera index (0-9), 'demo', an image file or a video file"


def open_source(
    spec: str,
    clock: Clock,
    *,
    width: int = 640,
    height: int = 480,
    fps: float = 30.0,
    loop: bool = True,
    stale_after_s: float = 2.0,
    capture_factory: CaptureFactory | None = None,
) -> Source:
    """The source a spec names: "0".."9" → camera, "demo" → demo, else an image or a video file.

    Raises SourceError (a ValueError) naming the spec when it is none of these, so that a typo in
    a config says what was typed. Nothing is started: the caller decides realtime or offline.
    """
    text = spec.strip()
    if not text:
        raise SourceError(f"source '{spec}' is empty; expected {SPEC_HELP}")
    if text.isdigit() and len(text) == 1:
        return CameraSource(
            int(text), clock, width, height, fps, stale_after_s, capture_factory=capture_factory
        )
    if text.lower().partition(":")[0] == "demo":  # "demo", "demo:visits[=PRESENT/AWAY]", "demo:tilts[=S]"
        return demo_from_spec(text, clock, fps=fps, size=(width, height))
    path = Path(text).expanduser()
    suffix = path.suffix.lower()
    if not path.exists():
        kind = "file"
        if suffix in IMAGE_SUFFIXES or suffix in VIDEO_SUFFIXES:
            kind = "image file" if suffix in IMAGE_SUFFIXES else "video file"
        raise SourceError(f"source '{spec}': no such {kind}; expected {SPEC_HELP}")
    if not path.is_file():
        raise SourceError(f"source '{spec}' is not a file; expected {SPEC_HELP}")
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path, clock, fps=fps)
    if suffix in VIDEO_SUFFIXES:
        return VideoSource(path, clock, loop=loop)
    raise SourceError(
        f"source '{spec}': unknown file type '{suffix or '(none)'}'; images: "
        f"{', '.join(sorted(IMAGE_SUFFIXES))}; videos: {', '.join(sorted(VIDEO_SUFFIXES))}"
    )


def check_source(spec: str) -> None:
    """Raise SourceError (one line naming the spec or file) if `spec` cannot be a source; opens
    nothing that lasts. Cheap (no camera is opened, a video is probed quietly), so the command line
    can call it before loading models and a bad --source is the only thing printed."""
    open_source(spec, FixedStepClock(30.0)).close()
