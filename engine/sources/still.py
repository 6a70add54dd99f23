"""A still photograph as a source: for setting up a scene or testing perception without a camera.

The same image is handed out as a new frame (new index, fresh capture time) at `fps`, so that
downstream stages run and the measured latency stays meaningful, as with a camera; the pixels are
shared and read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.clock import Clock
from engine.messages import Frame
from engine.sources.base import PacedSource, Producer, SourceError, read_only

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def load_photo(path: str | Path, max_side: int | None = 1280) -> np.ndarray:
    """An RGB uint8 image, upright and at most `max_side` pixels on its long side.

    Pillow rather than OpenCV because phone photographs are often stored sideways with an EXIF
    orientation tag, which cv2.imread ignores; and a 12-megapixel photo would only slow perception.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            if max_side is not None and max(im.size) > max_side:
                im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            return np.asarray(im, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise SourceError(f"cannot read image file {path}: {exc}") from exc


class ImageSource(PacedSource):
    """A constant source. `clock` is needed only for realtime use; without one a realtime clock
    is made at start()."""

    def __init__(
        self, path: str | Path, clock: Clock | None = None, fps: float = 30.0, max_side: int | None = 1280
    ) -> None:
        self.path = Path(path)
        self.image = read_only(load_photo(self.path, max_side))
        super().__init__(f"image:{self.path.name}", clock, fps)

    def _describe(self) -> str:
        return f"image {self.path.name}"

    def _producer(self) -> tuple[Producer, Callable[[], None]]:
        return (lambda index: self.image), (lambda: None)

    def frames(self, limit: int | None = None) -> Iterator[Frame]:
        """Endless unless `limit` is given."""
        index = 0
        while limit is None or index < limit:
            yield Frame(image=self.image, capture_time=index / self.fps, index=index, source=self.name)
            index += 1
