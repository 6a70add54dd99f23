"""Write presented frames to an H.264 mp4, off the render thread, timed by when they were shown.

Only rendered output frames go in here, never camera frames: visitors are
not recorded. Frames are cropped to even sizes because yuv420p halves the
chroma resolution and libx264 refuses odd dimensions.

Three things an unattended piece needs from a recorder:
- A bad path fails at start (`check_record_path`), before the projector shows anything.
- Encoding runs in its own thread behind a short queue: a slow disk makes recorded frames drop,
  never the picture stall. A failure later (disk full, ffmpeg gone) stops the recording, is
  logged once, and the picture goes on.
- Recording live must not slow the live picture: on a 2-core machine x264's `veryfast` took 16 ms
  of CPU a 720p frame, half a core at 30 fps, which the loop paid in frames and latency. Live
  recordings use `ultrafast` (6 ms a frame; the file is about twice as big at the same quality)
  and the encoder runs at a lower CPU priority (`NICE`), so the perception, generator and render
  threads win any contest for a core and the encoder's queue drops frames instead. Offline renders
  have all the time they need and keep `veryfast`.
- The file plays at the speed it was shown: the mp4 has a constant rate, and each presented frame
  is written as many times as its presentation time asks (repeated when the loop ran slow,
  skipped when it ran fast), so 15 fps shown in a 30 fps file still plays in real time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from engine.paths import PathError, check_writable_file

log = logging.getLogger(__name__)

SUFFIXES = (".mp4", ".mov", ".mkv")
QUEUE = 8  # frames waiting for the encoder; 8 × 1280×720 RGB ≈ 22 MB at most
PRESETS = {True: "ultrafast", False: "veryfast"}  # x264 preset by `realtime`
NICE = 19  # the live encoder's niceness: the lowest, it gets what the loop leaves


class RecorderError(PathError):
    """The recording cannot start; the message names the path and what is wrong."""


def check_record_path(path: str | Path, key: str = "run.record") -> Path:
    """Fail at start, in one line, for a path the encoder could never write."""
    return check_writable_file(path, key, SUFFIXES)


class Recorder:
    """One mp4 file: `write(rgb, t)` per presented frame (t in seconds), then `close`."""

    def __init__(
        self,
        path: str | Path,
        size: tuple[int, int],
        fps: float,
        quality: float = 7.0,
        realtime: bool = False,
        gl_frames: bool = False,
    ) -> None:
        """`realtime`: drop frames when the encoder falls behind (the picture must not wait);
        otherwise (offline renders) `write` waits, so every frame is in the file. `gl_frames`: frames
        come through `write_gl` as GL's bytes (engine.render.readback.read_gl_rgba) of exactly
        `size`, and ffmpeg flips, crops and converts them, off the render thread."""
        w, h = int(size[0]), int(size[1])
        self.input_size = (w, h)
        self.gl_frames = gl_frames
        self.size = (w - w % 2, h - h % 2)
        if self.size[0] <= 0 or self.size[1] <= 0:
            raise ValueError(f"recorder size {size} too small: needs at least 2×2")
        self.path = Path(path)
        self.fps = float(fps)
        self.realtime = realtime
        self.frames = 0  # frames written into the file (repeats included)
        self.presented = 0  # frames handed to write()
        self.dropped = 0  # frames the encoder could not keep up with
        self.failed = ""  # why the recording stopped early; "" while it works
        self._t0: float | None = None
        self._queue: deque[tuple[np.ndarray | bytes, float]] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._ffmpeg = _Ffmpeg(
            self.path,
            self.input_size if gl_frames else self.size,
            self.size if gl_frames else None,
            self.fps,
            quality,
            PRESETS[realtime],
            NICE if realtime else 0,
        )
        self._thread = threading.Thread(target=self._encode, name="recorder", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        return not self.failed and not self._closing

    def write(self, rgb: np.ndarray, t: float | None = None) -> None:
        """Queue a frame shown at time t (seconds, any origin); never blocks, never raises on I/O."""
        w, h = self.size
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < h or rgb.shape[1] < w:
            raise ValueError(f"recorder expects RGB frames of at least {w}×{h}, got shape {rgb.shape}")
        if not self.active:
            return
        if t is None:  # untimed: one file frame per call
            t = self.presented / self.fps
        self._queue_frame(np.ascontiguousarray(rgb[:h, :w], dtype=np.uint8), t)

    def write_gl(self, data: bytes, t: float | None = None) -> None:
        """As `write`, for GL's own bytes (gl_frames): RGBA, the bottom row first, `size` exactly."""
        w, h = self.input_size
        if not self.gl_frames or len(data) != w * h * 4:
            raise ValueError(f"recorder expects {w}×{h} RGBA frames from GL, got {len(data)} bytes")
        if not self.active:
            return
        if t is None:
            t = self.presented / self.fps
        self._queue_frame(data, t)

    def _queue_frame(self, frame: np.ndarray | bytes, t: float) -> None:
        with self._cond:
            self.presented += 1
            if not self.realtime:
                self._cond.wait_for(lambda: len(self._queue) < QUEUE or self.failed or self._closing)
            if len(self._queue) >= QUEUE:
                self.dropped += 1  # the next frame written repeats to cover the gap: time stays true
                return
            self._queue.append((frame, t))
            self._cond.notify_all()

    def _encode(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return
                frame, t = self._queue.popleft()
                self._cond.notify_all()  # room for a waiting offline writer
            if self.failed:
                continue
            if self._t0 is None:
                self._t0 = t
            due = int(round((t - self._t0) * self.fps)) + 1  # file frames that should exist by now
            try:
                data = frame if isinstance(frame, bytes) else frame.tobytes()
                for _ in range(max(0, due - self.frames)):
                    self._ffmpeg.write(data)
                    self.frames += 1
            except Exception as e:  # noqa: BLE001 - disk full, ffmpeg gone: stop recording, keep showing
                self._fail(e)

    def _fail(self, e: BaseException) -> None:
        self.failed = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        with self._cond:
            self._cond.notify_all()  # release an offline writer waiting for room
        log.error(
            "recording to %s stopped after %d frames (%s); the picture goes on",
            self.path,
            self.frames,
            self.failed,
        )
        self._ffmpeg.kill()

    def close(self) -> None:
        """Encode what is queued, then finish the file (so a SIGTERM leaves a playable mp4)."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
        if not self.failed:
            try:
                self._ffmpeg.finish()
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Ffmpeg:
    """An ffmpeg process fed raw frames on stdin; its errors (disk full) come back as exceptions.

    `gl_crop` None: RGB frames top row first, of `size`. Else GL's RGBA bottom row first, of `size`,
    flipped and cropped to `gl_crop` (the even size) by ffmpeg."""

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        gl_crop: tuple[int, int] | None,
        fps: float,
        quality: float,
        preset: str,
        nice: int,
    ) -> None:
        import imageio_ffmpeg

        crf = int(round(40 - 2.5 * min(max(quality, 0.0), 10.0)))  # quality 7 → crf 22
        pix = "rgb24" if gl_crop is None else "rgba"
        flip = [] if gl_crop is None else ["-vf", f"vflip,crop={gl_crop[0]}:{gl_crop[1]}:0:0"]
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y", "-v", "error", "-nostdin",
            "-f", "rawvideo", "-pix_fmt", pix, "-s", f"{size[0]}x{size[1]}", "-r", f"{fps:g}", "-i", "-",
            "-an", *flip, "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(path),
        ]  # fmt: skip
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as e:
            raise RecorderError(f"cannot start ffmpeg to record to {path}: {e}") from None
        if nice:
            with contextlib.suppress(OSError):  # a priority is a wish: recording works without it
                os.setpriority(os.PRIO_PROCESS, self.proc.pid, nice)
        self.errors: deque[str] = deque(maxlen=20)  # ffmpeg's last words, for the one log line
        threading.Thread(target=self._read_errors, name="recorder-ffmpeg", daemon=True).start()

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.errors.append(raw.decode(errors="replace").strip())

    def _reason(self, fallback: str) -> str:
        said = [e for e in self.errors if e]
        return said[-1] if said else fallback

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
        except OSError as e:  # the pipe broke: ffmpeg has stopped, and says why on stderr
            self.proc.wait(timeout=10)
            raise OSError(self._reason(str(e))) from None

    def finish(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        if code != 0:
            time.sleep(0.05)  # let the reader thread take the last line
            raise OSError(self._reason(f"ffmpeg exited with code {code}"))

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
