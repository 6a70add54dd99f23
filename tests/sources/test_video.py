"""A video file must give the same frames at the same times every run, loop without a seam, and
in realtime hand out the newest frame, skipping rather than lagging; over a season it may vanish
and come back, and the piece must wait for it quietly and play it again at once."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from engine.clock import RealtimeClock
from engine.sources import SourceError, VideoSource
from tests.sources.fakes import poll, poll_status

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


def test_errors_name_the_file_and_ffmpeg_stays_quiet(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SourceError, match="video file not found: .*missing.mp4"):
        VideoSource(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_text("this is not a video")
    with pytest.raises(SourceError, match="junk.mp4: not a format OpenCV's FFmpeg can decode"):
        VideoSource(junk)
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(SourceError) as error:
        VideoSource(empty)
    assert str(error.value) == f"video file {empty} is empty (0 bytes)"
    assert capfd.readouterr().err == ""  # FFmpeg's own "moov atom not found" no longer comes first


class ShiftableClock(RealtimeClock):
    """Real time plus an offset the test can add to, so that a minute passes for the log throttle."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset


def test_a_file_removed_mid_run_is_waited_for_and_plays_again(
    clip: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="engine.sources")
    path, aside = tmp_path / "visitor.mp4", tmp_path / "aside.mp4"
    shutil.copy(clip, path)
    assert (VideoSource.retry_s, VideoSource.retry_max_s) == (2.0, 30.0)
    clock = ShiftableClock()

    def said(words: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if words in r.getMessage()]

    with VideoSource(path, clock, loop=True) as video:
        video.retry_s, video.retry_max_s = 0.05, 3.0  # the same doubling, from 40x shorter
        video.start()
        poll(video, lambda f: f is not None)
        t_gone = clock.now()
        path.rename(aside)  # the open file plays on to the end of the clip, then cannot be reopened
        note = poll_status(video, "is gone")
        t_seen = clock.now()
        assert note == "video visitor.mp4 is gone — waiting for it to come back"  # the name, not the folder
        assert video.latest() is None and not video.live
        time.sleep(1.5)
        assert 3 <= video.failures <= 7, video.failures  # 0.05, 0.1, 0.2, 0.4, 0.8: backoff, not a poll
        assert said("is gone") == [f"video:visitor.mp4: {path} is gone — waiting for it to come back"]
        clock.offset += 61  # a minute on: said once more, with how often it happened meanwhile
        poll(video, lambda _: len(said("is gone")) == 2)
        assert "more like it since last said)" in said("is gone")[1]
        failures = video.failures  # the timer's next try is now 3 s away
        t_back = clock.now()
        aside.rename(path)  # put back: seen within two looks, played at once
        frame = poll(video, lambda f: f is not None)
        assert frame is not None and video.failures == failures
        recovery = frame.capture_time - t_back
        assert recovery < 1.0
        assert video.status() == "video visitor.mp4 playing" and video.live
        assert len(said("is back after")) == 1 and len(said("is gone")) == 2
    print(
        f"\nFAULT video removed: noticed {t_seen - t_gone:.2f} s after removal (at the end of the "
        f"{N / FPS:.1f} s clip), put back → first frame {recovery:.2f} s ({recovery * FPS:.0f} frames at "
        f"{FPS} fps); {failures} tries while gone, 2 log lines"
    )


def test_a_broken_copy_is_retried_and_the_note_names_only_the_file(clip: Path, tmp_path: Path) -> None:
    path = tmp_path / "visitor.mp4"
    shutil.copy(clip, path)
    with VideoSource(path, RealtimeClock(), loop=True) as video:
        video.retry_s = 5.0  # only a change of the file can explain a retry within the test
        video.start()
        poll(video, lambda f: f is not None)
        path.write_bytes(b"")  # a copy being made: empty first
        note = poll_status(video, "empty")
        assert note.startswith(
            "video visitor.mp4 failed: video file visitor.mp4 is empty (0 bytes) — retrying in "
        )
        assert str(tmp_path) not in note
        path.write_bytes(b"\0" * 5000)  # still not a video
        note = poll_status(video, "not a format")
        assert note.startswith("video visitor.mp4 failed: cannot open video file visitor.mp4: not a format")
        shutil.copy(clip, path)  # the copy is complete
        poll(video, lambda f: f is not None, timeout=2.0)
        assert video.status() == "video visitor.mp4 playing"
