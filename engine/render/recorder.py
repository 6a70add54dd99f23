"""Write presented frames to an H.264 mp4.

Only rendered output frames go in here, never camera frames: visitors are
not recorded. Frames are cropped to even sizes because yuv420p halves the
chroma resolution and libx264 refuses odd dimensions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class Recorder:
    """One mp4 file; `write` an RGB uint8 H×W×3 frame per presented frame, then `close`."""

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float, quality: float = 7.0) -> None:
        import imageio_ffmpeg

        w, h = int(size[0]), int(size[1])
        self.size = (w - w % 2, h - h % 2)
        if self.size[0] <= 0 or self.size[1] <= 0:
            raise ValueError(f"recorder size {size} too small: needs at least 2×2")
        self.path = Path(path)
        self.frames = 0
        self._writer = imageio_ffmpeg.write_frames(
            str(self.path),
            self.size,
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            fps=fps,
            codec="libx264",
            quality=quality,
            macro_block_size=2,  # keep the size as given (even); the default 16 would rescale
        )
        self._writer.send(None)  # start the ffmpeg process

    def write(self, rgb: np.ndarray) -> None:
        w, h = self.size
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < h or rgb.shape[1] < w:
            raise ValueError(f"recorder expects RGB frames of at least {w}×{h}, got shape {rgb.shape}")
        frame = np.ascontiguousarray(rgb[:h, :w], dtype=np.uint8)
        self._writer.send(frame.tobytes())
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
