"""The zone editor's real window, run by test_zone.py in a child process on a private Xvfb.

    python -m tests.calibration.zone_window_check ROOM IMAGE OUT.png

Clicks and keys go through pygame's own event queue (posted one per frame, as a mouse would),
the window is the engine's WindowSurface, and the picture it presents after the fourth click is
read back from the window's framebuffer into OUT.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import pygame

from calibration import zone_ui
from engine.render.context import WindowSurface
from engine.render.readback import read_rgb

CLICKS = [(0.02, 0.05), (0.5, 0.05), (0.5, 0.95), (0.9, 0.9), (0.02, 0.95)]  # the 4th is undone


def main() -> int:
    room, image, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    size = cv2.imread(image).shape[1::-1]
    script: list[pygame.event.Event | None] = [None] * 3  # a few frames with no input first
    for i, (x, y) in enumerate(CLICKS):
        pos = (round(x * size[0]), round(y * size[1]))
        script.append(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
        if i == 3:
            script.append(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_BACKSPACE))
    script += [None, pygame.event.Event(pygame.KEYDOWN, key=pygame.K_s)]
    real_get, real_present = pygame.event.get, WindowSurface.present
    shots: list[int] = []

    def get(*args, **kw):
        if script and (event := script.pop(0)) is not None:
            pygame.event.post(event)
        return real_get(*args, **kw)

    def present(self: WindowSurface) -> None:
        if len(script) == 2 and not shots:  # all points placed, S not yet pressed
            shots.append(1)
            picture = read_rgb(self.framebuffer, self.size)
            cv2.imwrite(str(out), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        real_present(self)

    pygame.event.get = get
    WindowSurface.present = present  # type: ignore[method-assign]
    settings = {"anchor": "centre", "distance": [0.0, 1.0], "distance_m": None}
    rc = zone_ui.edit_live(image, room, settings)
    print(f"window size {tuple(size)}; shot {bool(shots)}")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
