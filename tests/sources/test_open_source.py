"""The --source text: a typo must say what was typed and what would have worked."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.clock import FixedStepClock, RealtimeClock
from engine.sources import CameraSource, DemoSource, ImageSource, VideoSource, open_source


def test_camera_and_demo_specs() -> None:
    clock = RealtimeClock()
    cam = open_source("3", clock, width=320, height=240, stale_after_s=1.5)
    assert isinstance(cam, CameraSource) and cam.index == 3 and cam.name == "camera:3"
    assert (cam.width, cam.height, cam.stale_after_s) == (320, 240, 1.5)
    assert cam.status() == "camera 3 not started"  # nothing opened until start()
    assert isinstance(open_source("0", clock), CameraSource)
    demo = open_source(" Demo ", clock, width=320, height=240, fps=25)
    assert isinstance(demo, DemoSource) and demo.size == (320, 240) and demo.fps == 25
    assert next(iter(demo.frames(limit=1))).image.shape == (240, 320, 3)


def test_file_specs(tmp_path: Path) -> None:
    clock = FixedStepClock(30)
    picture = tmp_path / "still.PNG"
    Image.new("RGB", (8, 6)).save(picture, format="png")
    assert isinstance(open_source(str(picture), clock), ImageSource)
    movie = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(movie), cv2.VideoWriter_fourcc(*"MJPG"), 12, (32, 24))
    for v in (0, 128, 255):
        writer.write(np.full((24, 32, 3), v, np.uint8))
    writer.release()
    video = open_source(str(movie), clock, loop=False)
    assert isinstance(video, VideoSource) and video.fps == 12 and len(list(video.frames())) == 3


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere.mp4", "source 'nowhere.mp4': no such video file"),
        ("nowhere.jpg", "source 'nowhere.jpg': no such image file"),
        ("webcam", "source 'webcam': no such file; expected a camera index"),
        ("12", "source '12': no such file"),
        ("", "source '' is empty; expected a camera index"),
    ],
)
def test_unknown_specs_name_themselves(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_source(spec, RealtimeClock())


def test_wrong_kind_of_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(ValueError, match=r"notes.txt': unknown file type '\.txt'"):
        open_source(str(notes), RealtimeClock())
    with pytest.raises(ValueError, match="is not a file"):
        open_source(str(tmp_path), RealtimeClock())
