"""A still photo: upright whatever its EXIF says, a fresh frame at every tick, pixels shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.clock import RealtimeClock
from engine.sources import ImageSource, SourceError
from tests.sources.fakes import poll


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A 40×30 landscape picture stored sideways, as phones do, with an EXIF 'rotate 90°' tag."""
    image = np.zeros((30, 40, 3), np.uint8)
    image[:, :20] = (255, 0, 0)  # left half red
    stored = Image.fromarray(image).transpose(Image.Transpose.ROTATE_90)  # now 30 wide, 40 high
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    path = tmp_path / "photo.jpg"
    stored.save(path, quality=95, exif=exif)
    return path


def test_photo_is_upright_and_frames_are_fresh(photo: Path) -> None:
    still = ImageSource(photo, fps=10.0)
    assert still.image.shape == (30, 40, 3)  # turned upright from the 30×40 stored pixels
    assert still.image[15, 5, 0] > 200 and still.image[15, 35, 0] < 50  # red on the left
    frames = list(still.frames(limit=3))
    assert [(f.index, f.capture_time) for f in frames] == [(0, 0.0), (1, 0.1), (2, 0.2)]
    assert all(f.image is still.image for f in frames) and not still.image.flags.writeable
    assert frames[0].source == "image:photo.jpg"


def test_big_photos_are_scaled_down(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (3000, 1500), (10, 20, 30)).save(path)
    assert ImageSource(path).image.shape == (640, 1280, 3)
    assert ImageSource(path, max_side=None).image.shape == (1500, 3000, 3)


def test_realtime_still(photo: Path) -> None:
    with ImageSource(photo, RealtimeClock(), fps=50.0) as still:
        still.start()
        frame = poll(still, lambda f: f is not None and f.index >= 2)
        assert frame is not None and frame.image is still.image and still.live


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="image file not found: .*nothing.jpg"):
        ImageSource(tmp_path / "nothing.jpg")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    with pytest.raises(SourceError, match="cannot read image file .*bad.png"):
        ImageSource(bad)
