"""A "camera" for the capture child process: a real `cv2.VideoCapture` on a video file, paced like a
camera and looping, whose behaviour the test switches from outside through a control file.

There is no camera on the test machines (no /dev/video*), so this exercises OpenCV's real read path
inside the child; the faults are the ones a USB camera shows in a gallery. The child finds this
class by name (ProcessCapture's `opener`), so it must stay importable and cheap to import.

The source spec is "VIDEO|CONTROL_DIR". CONTROL_DIR/mode holds one word, read before every read:
  ok       new images at `FPS`;
  absent   the device cannot be opened (unplugged);
  die      read() returns False (unplugged while streaming);
  repeat   read() returns the very same image again and again (a frozen driver);
  block    read() blocks in the kernel for good (open() of a FIFO nobody writes to) as OpenCV's
           read can after an unplug; only killing the process ends it.
A word ending in "-once" (block-once, repeat-once) is a fault that hits the first process to read it
and not the next ones, as a reopened camera often works again. Each process appends its pid to
CONTROL_DIR/opened when it opens, and writes CONTROL_DIR/fault when it meets a one-shot fault.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import cv2
import numpy as np

FPS = 30.0


def write_clip(path: Path, frames: int = 60, size: tuple[int, int] = (640, 480), fps: float = FPS) -> Path:
    """An H.264 clip in which every frame differs from the one before (a moving bar on a ramp)."""
    import imageio_ffmpeg

    w, h = size
    writer = imageio_ffmpeg.write_frames(str(path), size, fps=fps, macro_block_size=16)
    writer.send(None)
    for k in range(frames):
        image = np.zeros((h, w, 3), np.uint8)
        image[:, :, 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
        image[:, :, 1] = 4 * k % 256
        x = k * (w - 40) // max(frames - 1, 1)
        image[h // 4 : h // 2, x : x + 40] = 255
        writer.send(image)
    writer.close()
    return path


def make_spec(video: Path, folder: Path, mode: str = "ok") -> str:
    """The source spec for FileCamera, with the control file set to `mode`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mode").write_text(mode)
    return f"{video}|{folder}"


def control(spec: str) -> tuple[str, Path]:
    video, _, folder = spec.partition("|")
    return video, Path(folder)


class FileCamera:
    def __init__(self, spec: str) -> None:
        self.video, self.folder = control(spec)
        self.cap = cv2.VideoCapture(self.video)
        self.last: np.ndarray | None = None
        self.next_t = time.monotonic()
        with open(self.folder / "opened", "a") as f:
            f.write(f"{os.getpid()}\n")

    def mode(self) -> str:
        try:
            word = (self.folder / "mode").read_text().strip() or "ok"
        except FileNotFoundError:
            return "ok"
        if not word.endswith("-once"):
            return word
        fault = self.folder / "fault"
        try:
            fd = os.open(fault, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # the first process only
        except FileExistsError:
            return "ok" if fault.read_text().strip() != str(os.getpid()) else word[: -len("-once")]
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return word[: -len("-once")]

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.mode() != "absent" and self.cap.isOpened()

    def set(self, prop_id: int, value: float) -> bool:
        return bool(self.cap.set(prop_id, value))

    def release(self) -> None:
        self.cap.release()

    def read(self) -> tuple[bool, np.ndarray | None]:
        mode = self.mode()
        if mode == "block":
            fifo = self.folder / "never"
            with contextlib.suppress(FileExistsError):
                os.mkfifo(fifo)
            os.open(fifo, os.O_RDONLY)  # no writer ever comes: blocked in the kernel
        if mode in ("die", "absent"):
            return False, None
        self.next_t = max(self.next_t + 1 / FPS, time.monotonic())
        time.sleep(max(0.0, self.next_t - time.monotonic()))
        if mode == "repeat" and self.last is not None:
            return True, self.last
        ok, image = self.cap.read()
        if not ok:  # the end of the file: loop, as a camera never ends
            self.cap.release()
            self.cap = cv2.VideoCapture(self.video)
            ok, image = self.cap.read()
        self.last = image if ok else None
        return ok, image
