"""Drawing the zone in the window: click points over the camera picture, see who is inside.

Click adds a point, Backspace removes the last, R clears them, S saves (when the points make a zone;
otherwise the reason shows and nothing is written), Esc leaves without saving. ZoneEditor is the
whole behaviour as a state machine fed with Click/Key events, so it is tested without a screen;
`edit_live` is only the loop that turns pygame's events into those and draws the overlay
(calibration/zone_overlay.py).

    python -m calibration.zone_ui --screenshot docs/calibration/zone.png   # the overlay, headless
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from calibration.files import CalibrationError, load, path_for
from calibration.zone import STEP, ZONE_MAX_PEOPLE, Point, Zone, save_zone, validate
from calibration.zone_overlay import ZoneOverlay, render_overlay
from engine.perception.people import Box

HELP = "click: add point   Backspace: undo   R: reset   S: save   Esc: leave"


@dataclass(frozen=True)
class Click:
    x: float  # normalised to the picture, 0..1
    y: float


@dataclass(frozen=True)
class Key:
    name: str  # pygame's key name: "backspace", "s", "r", "escape"


class ZoneEditor:
    """Points being drawn, and what S and Esc did. `saved` is the file written, or None."""

    def __init__(
        self,
        room: Path,
        image_size: tuple[int, int],
        settings: dict[str, Any],
        points: Sequence[Point] = (),
        save: Callable[[Path, Zone], Path] = save_zone,
    ) -> None:
        self.room, self.image_size, self.settings, self._save = room, image_size, settings, save
        self.points: list[Point] = list(points)
        self.message = ""
        self.done = False
        self.saved: Path | None = None

    def zone(self) -> Zone:
        """The zone the points make; CalibrationError (one line) when they make none."""
        data = {"polygon": [list(p) for p in self.points], "image_size": list(self.image_size)}
        return validate({**data, **self.settings}, str(path_for(self.room, STEP)))

    def handle(self, event: Click | Key) -> None:
        if self.done:
            return
        if isinstance(event, Click):
            self.points.append((min(1.0, max(0.0, event.x)), min(1.0, max(0.0, event.y))))
            self.message = ""
        elif event.name == "backspace":
            self.points = self.points[:-1]
            self.message = ""
        elif event.name == "r":
            self.points, self.message = [], "reset: click the zone's corners in order"
        elif event.name == "s":
            try:
                self.saved = self._save(self.room, self.zone())
            except CalibrationError as e:
                self.message = f"not saved: {e}"
                return
            self.done, self.message = True, f"saved {self.saved}"
        elif event.name in ("escape", "quit"):
            self.done, self.message = True, "left without saving"

    def lines(self) -> tuple[str, ...]:
        return (HELP, f"{len(self.points)} points", *((self.message,) if self.message else ()))


# ------------------------------------------------------------------ people, for the overlay
class PeopleFinder:
    """Boxes of everyone MediaPipe's multi-pose finds (the engine's own model), for the overlay."""

    def __init__(self, video: bool) -> None:
        from engine.perception.pose_model import MultiPose

        self._pose = MultiPose(
            complexity=1,
            num_poses=ZONE_MAX_PEOPLE + 2,
            video=video,
            segmentation=False,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )

    def __call__(
        self, image: np.ndarray, t: float, zone: Zone | None, focal_px: float | None = None
    ) -> list[tuple[Box, bool, Point]]:
        from engine.perception.people import pose_box

        boxes = [b for pose, _ in self._pose.detect(np.ascontiguousarray(image), t) if (b := pose_box(pose))]
        if zone is None:
            return [(b, False, ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)) for b in boxes]
        return [(b, zone.admits(b, focal_px), zone.anchor_of(b)) for b in boxes]

    def close(self) -> None:
        self._pose.close()


# ------------------------------------------------------------------ the window
def edit_live(source_spec: str, room: Path, settings: dict[str, Any]) -> int:
    """The thin loop: camera picture and people in, clicks and keys to the editor, overlay out.
    With camera.json the picture is straightened first, as perception sees it (the zone is drawn
    in the same image the people's boxes are found in)."""
    import pygame

    from calibration.camera import validate as camera_validate
    from calibration.undistort import Undistort
    from engine.clock import RealtimeClock
    from engine.render.context import WindowSurface
    from engine.sources import open_source

    clock = RealtimeClock()
    source = open_source(source_spec, clock)
    source.start()
    old = load(room, STEP, validate)
    camera = load(room, "camera", camera_validate)
    straighten = Undistort(camera).frame if camera is not None else np.asarray
    finder = PeopleFinder(video=True)
    surface = None
    try:
        frame = None
        while frame is None:
            frame = source.latest()
            clock.sleep_until(clock.now() + 0.05)
        h, w = frame.image.shape[:2]
        scale = min(1.0, 1280 / w, 720 / h) if max(w, h) > 1280 else max(1.0, 960 / w)
        surface = WindowSurface((round(w * scale), round(h * scale)), title="calibration: zone")
        overlay = ZoneOverlay(surface.ctx, surface.size)
        editor = ZoneEditor(room, (w, h), settings, old.polygon if old is not None else ())
        while not editor.done:
            for e in pygame.event.get():
                if e.type == pygame.MOUSEBUTTONDOWN and e.button == 1:
                    editor.handle(Click(e.pos[0] / surface.size[0], e.pos[1] / surface.size[1]))
                elif e.type == pygame.KEYDOWN:
                    editor.handle(Key(pygame.key.name(e.key)))
                elif e.type == pygame.QUIT:
                    editor.handle(Key("quit"))
            frame = source.latest() or frame
            try:
                zone = editor.zone()
            except CalibrationError:
                zone = None
            image = straighten(frame.image)
            focal = camera.focal_px((w, h)) if camera is not None else None
            people = finder(image, frame.capture_time, zone, focal)
            surface.framebuffer.use()
            overlay.draw(image, editor.points, people, editor.lines())
            surface.present()
        print(editor.message)
        return 0
    finally:
        finder.close()
        source.close()
        if surface is not None:
            surface.close()


def screenshot(path: Path, size: tuple[int, int] = (960, 480)) -> list[tuple[Box, bool, Point]]:
    """The docs' picture: two real portraits, a zone around the left one, people found by MediaPipe."""
    from engine.perception.bench import two_people

    astronaut, hopper = portraits()
    image = two_people(astronaut, hopper, 1.0, 1.0, size)
    zone = validate({"polygon": DOCS_POLYGON, "distance": [0.3, 1.0], "image_size": list(size)}, "docs zone")
    finder = PeopleFinder(video=False)
    try:
        people = finder(image, 0.0, zone)
    finally:
        finder.close()
    lines = (HELP, f"{len(zone.polygon)} points   distance {zone.distance[0]}..{zone.distance[1]}")
    out = render_overlay(image, zone.polygon, people, lines, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    return people


def portraits() -> tuple[np.ndarray, np.ndarray]:
    """Two real people, RGB: the astronaut (skimage) and Grace Hopper (matplotlib), as in
    engine.perception.bench (Hopper's portrait cropped to less empty background)."""
    import skimage.data
    from matplotlib import cbook

    hopper = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    return skimage.data.astronaut(), cv2.cvtColor(hopper, cv2.COLOR_BGR2RGB)[:, 40:-40]


DOCS_POLYGON = [[0.02, 0.25], [0.3, 0.12], [0.48, 0.3], [0.46, 0.98], [0.04, 0.98]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m calibration.zone_ui", description=__doc__.splitlines()[0])
    ap.add_argument("--screenshot", type=Path, required=True, help="PNG to write")
    args = ap.parse_args(argv)
    for box, inside, _ in screenshot(args.screenshot):
        print(f"{'inside ' if inside else 'outside'} box {tuple(round(v, 3) for v in box)}")
    print(f"wrote {args.screenshot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
