"""A video file as a source: a recorded rehearsal, a test clip, a performer filmed in advance.

Decoding is strictly sequential and looping reopens the file, because seeking back to frame 0 is
not exact for every codec and container; so frame k of the looped stream is the same image in the
realtime player and in `frames()`, which makes offline renders repeatable.

Over a season the file can go away (a USB stick pulled, a folder synced) and come back. Playing on
from the open handle, the source finds out at the next loop; it then says the file is gone, once
in the log, and plays again as soon as the file is back (see PacedSource for the retry rules).
FFmpeg's own log is silenced (OPENCV_FFMPEG_LOGLEVEL, read at OpenCV's first use of FFmpeg):
every failure it could describe already gets one line of ours that names the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from engine.clock import Clock
from engine.messages import Frame
from engine.sources.base import PacedSource, Producer, SourceError, read_only

# AV_LOG_QUIET. OpenCV reads it when it first uses FFmpeg, not at import; a value the user set is kept.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".gif"})
DEFAULT_FPS = 30.0


class VideoGone(SourceError):
    """The file is not there (any more)."""


def check_file(path: Path) -> None:
    """Fail with a line of ours before FFmpeg is asked about a file that is missing or empty."""
    if not path.is_file():
        raise VideoGone(f"video file not found: {path}")
    if path.stat().st_size == 0:
        raise SourceError(f"video file {path} is empty (0 bytes)")


class _Decoder:
    """Sequential frames of one file, looping by reopening it."""

    def __init__(self, path: Path, loop: bool) -> None:
        self.path = path
        self.loop = loop
        self._cap = self._open()
        self._in_pass = 0  # frames decoded since the file was (re)opened

    def _open(self) -> cv2.VideoCapture:
        check_file(self.path)
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open video file {self.path}: not a format OpenCV's FFmpeg can decode")
        return cap

    def next(self, decode: bool = True) -> np.ndarray | None:
        """The next frame (RGB), or None at the end of a file that does not loop. With
        decode=False the frame is skipped without the cost of converting it."""
        while True:
            if self._cap.grab():
                self._in_pass += 1
                if not decode:
                    return _SKIPPED
                ok, image = self._cap.retrieve()
                if ok and image is not None:
                    return read_only(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            if not self.loop:
                return None
            if self._in_pass == 0:
                raise SourceError(f"video file {self.path} has no frames that can be decoded")
            self._cap.release()
            self._cap = self._open()
            self._in_pass = 0

    def close(self) -> None:
        self._cap.release()


_SKIPPED = np.zeros((0, 0, 3), np.uint8)


def probe(path: Path) -> tuple[float, int]:
    """(fps, frame count) of a file, or a SourceError naming it; the count may be an estimate."""
    check_file(path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise SourceError(f"cannot open video file {path}: not a format OpenCV's FFmpeg can decode")
        fps = cap.get(cv2.CAP_PROP_FPS)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        ok, image = cap.read()
        if not ok or image is None:
            raise SourceError(f"video file {path} has no frames that can be decoded")
    finally:
        cap.release()
    if not math.isfinite(fps) or not 0 < fps <= 1000:
        fps = DEFAULT_FPS  # some containers (raw streams, some GIFs) carry no rate
    return fps, max(count, 0)


class VideoSource(PacedSource):
    """Plays a file in realtime at its own fps (looping by default), or yields it frame by frame."""

    def __init__(self, path: str | Path, clock: Clock | None = None, loop: bool = True) -> None:
        self.path = Path(path)
        fps, self.frame_count = probe(self.path)
        super().__init__(f"video:{self.path.name}", clock, fps)
        self.loop = loop

    def _describe(self) -> str:
        return f"video {self.path.name}"

    def _explain(self, exc: Exception) -> tuple[str, str, bool]:
        # The note is read across a room: the file's name, never its folder. The log keeps the path.
        if isinstance(exc, VideoGone) or not self.path.exists():
            note = "is gone — waiting for it to come back"
            return note, f"{self.name}: {self.path} {note}", False
        text = str(exc).replace(str(self.path), self.path.name)
        return f"failed: {text}", f"{self.name} failed: {exc}", True

    def _input_token(self) -> object:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _producer(self) -> tuple[Producer, Callable[[], None]]:
        decoder = _Decoder(self.path, self.loop)
        position = 0  # index of the next frame the decoder will give

        def produce(index: int) -> np.ndarray | None:
            nonlocal position
            while position < index:  # fell behind: skip frames cheaply
                if decoder.next(decode=False) is None:
                    return None
                position += 1
            position += 1
            return decoder.next()

        return produce, decoder.close

    def frames(self, limit: int | None = None) -> Iterator[Frame]:
        """Every frame in order, capture_time = index / fps; with loop=True it repeats the file
        and is endless unless `limit` is given."""
        decoder = _Decoder(self.path, self.loop)
        try:
            index = 0
            while limit is None or index < limit:
                image = decoder.next()
                if image is None:
                    return
                yield Frame(image=image, capture_time=index / self.fps, index=index, source=self.name)
                index += 1
        finally:
            decoder.close()
