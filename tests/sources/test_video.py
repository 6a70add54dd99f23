"""A video file must give the same frames at the same times every run, loop without a seam, and
in realtime hand out the newest frame, skipping rather than lagging."""

from __future__ import annotations

import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from engine.clock import RealtimeClock
from engine.sources import SourceError, VideoSource
from tests.sources.fakes import poll

N, FPS = 10, 50  # a 0.2 s clip, so realtime tests see it loop quickly
LEVELS = [20 + 22 * k for k in range(N)]  # frame k is a flat grey of this level


def level(image: np.ndarray) -> int:
    """Which frame of the clip this is, from its grey level (h264 keeps a flat grey within ±3)."""
    return int(np.argmin([abs(float(image.mean()) - v) for v in LEVELS]))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    writer = imageio_ffmpeg.write_frames(str(path), (64, 48), fps=FPS, macro_block_size=16)
    writer.send(None)
    for v in LEVELS:
        writer.send(np.full((48, 64, 3), v, np.uint8))
    writer.close()
    return path


def test_offline_frames_are_in_order_with_exact_times(clip: Path) -> None:
    video = VideoSource(clip, loop=False)
    assert video.fps == FPS and video.name == "video:clip.mp4"
    frames = list(video.frames())
    assert [f.index for f in frames] == list(range(N))
    assert [f.capture_time for f in frames] == [k / FPS for k in range(N)]
    assert [level(f.image) for f in frames] == list(range(N))
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert {f.source for f in frames} == {"video:clip.mp4"}


def test_offline_loop_is_deterministic_and_seamless(clip: Path) -> None:
    video = VideoSource(clip, loop=True)
    first = list(video.frames(limit=2 * N + 5))
    again = list(video.frames(limit=2 * N + 5))
    assert len(first) == 2 * N + 5
    assert [f.capture_time for f in first] == [k / FPS for k in range(2 * N + 5)]
    for k, (a, b) in enumerate(zip(first, again, strict=True)):
        assert np.array_equal(a.image, b.image)  # same input, same frames
        assert np.array_equal(a.image, first[k % N].image)  # the loop repeats the clip exactly
    assert list(VideoSource(clip, loop=False).frames(limit=3))[-1].index == 2


def test_realtime_gives_the_newest_frame_and_loops(clip: Path) -> None:
    with VideoSource(clip, RealtimeClock(), loop=True) as video:
        assert video.latest() is None
        video.start()
        first = poll(video, lambda f: f is not None)
        assert first is not None and video.live and video.status() == "video clip.mp4 playing"
        later = poll(video, lambda f: f is not None and f.index >= 2 * N + 2)  # looped twice
        assert later is not None and level(later.image) == later.index % N
        time.sleep(0.1)  # a slow reader: five frames went by
        newest = video.latest()
        assert newest is not None and newest.index >= later.index + 3  # skipped, not queued
        assert video.latest() is newest or video.latest().index > newest.index
        assert abs(newest.capture_time - video._clock.now()) < 0.2  # noqa: SLF001 - fresh capture time
    assert not video.live and video.status() == "video clip.mp4 closed"


def test_realtime_without_loop_ends(clip: Path) -> None:
    with VideoSource(clip, RealtimeClock(), loop=False) as video:
        video.start()
        poll(video, lambda _: video.status() == "video clip.mp4 ended")
        assert not video.live and video.latest() is None


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="video file not found: .*missing.mp4"):
        VideoSource(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_text("this is not a video")
    with pytest.raises(SourceError, match="junk.mp4"):
        VideoSource(junk)
