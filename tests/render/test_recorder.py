"""The recorder writes rendered frames to an mp4 that reads back with the right count and size."""

from __future__ import annotations

import os
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from engine.render.recorder import NICE, Recorder


def encoder_argv(pid: int) -> list[bytes]:
    """The encoder's own command line, once it has one: just after the fork (and the nice call before
    exec) /proc still shows the Python that started it."""
    deadline = time.monotonic() + 10
    while True:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"-preset" in cmd or time.monotonic() > deadline:
            return cmd
        time.sleep(0.01)


def test_mp4_round_trip(tmp_path):
    path = tmp_path / "out.mp4"
    with Recorder(path, (161, 91), fps=30) as rec:  # odd size: cropped to even for yuv420p
        assert rec.size == (160, 90)
        for i in range(12):
            frame = np.zeros((91, 161, 3), np.uint8)
            frame[:, : 10 * (i + 1)] = (255, 255, 255)
            rec.write(frame)
    assert rec.frames == 12
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    frames = [np.frombuffer(f, np.uint8).reshape(90, 160, 3) for f in reader]
    assert meta["size"] == (160, 90)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert len(frames) == 12
    assert frames[-1][45, 100].mean() > 200 and frames[0][45, 100].mean() < 50, "frames in order"


def test_rejects_frames_of_the_wrong_shape(tmp_path):
    with Recorder(tmp_path / "x.mp4", (64, 48), fps=10) as rec:
        with pytest.raises(ValueError, match="RGB frames"):
            rec.write(np.zeros((48, 64), np.uint8))
        rec.write(np.zeros((48, 64, 3), np.uint8))


def test_timestamps_follow_presentation_times(tmp_path):
    """Frames shown at 15 fps into a 30 fps file are each written twice: it plays in real time."""
    path = tmp_path / "slow.mp4"
    with Recorder(path, (64, 48), fps=30) as rec:
        for i in range(15):
            rec.write(np.full((48, 64, 3), i * 16, np.uint8), t=100.0 + i / 15)
    assert rec.presented == 15 and rec.frames == 29  # 0 .. 28/30 s: the last frame shown at 14/15 s
    reader = imageio_ffmpeg.read_frames(str(path))
    next(reader)
    assert sum(1 for _ in reader) == 29


def test_an_encoder_that_dies_stops_the_recording_once(tmp_path, caplog):
    rec = Recorder(tmp_path / "x.mp4", (64, 48), fps=30, realtime=True)
    rec._ffmpeg.proc.kill()  # ffmpeg gone (out of memory, disk unplugged)
    for i in range(20):
        rec.write(np.zeros((48, 64, 3), np.uint8), t=i / 30)
    rec.close()
    assert rec.failed and not rec.active
    assert sum("stopped after" in r.message for r in caplog.records) == 1


def test_a_live_recording_encodes_fast_and_below_the_loops_priority(tmp_path):
    """A live encoder must lose every contest for a core to the stages the viewer sees."""
    rec = Recorder(tmp_path / "live.mp4", (64, 48), fps=30, realtime=True)
    try:
        pid = rec._ffmpeg.proc.pid
        assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + NICE
        cmd = encoder_argv(pid)
        assert cmd[cmd.index(b"-preset") + 1] == b"ultrafast"
    finally:
        rec.close()


def test_an_offline_render_keeps_the_slower_better_preset_at_normal_priority(tmp_path):
    rec = Recorder(tmp_path / "offline.mp4", (64, 48), fps=30)
    try:
        pid = rec._ffmpeg.proc.pid
        assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0)
        cmd = encoder_argv(pid)
        assert cmd[cmd.index(b"-preset") + 1] == b"veryfast"
    finally:
        rec.close()


def test_gl_frames_are_flipped_and_cropped_by_ffmpeg_not_the_render_thread(tmp_path):
    """GL's bytes go in as they are (RGBA, bottom row first, odd size); the file shows the picture
    upright at the even size: red on top, blue below, as it was on screen."""
    w, h = 65, 49
    picture = np.zeros((h, w, 4), np.uint8)  # top row first, as shown
    picture[: h // 2, :, 0] = 255  # red top half
    picture[h // 2 :, :, 2] = 255  # blue bottom half
    gl_bytes = picture[::-1].tobytes()  # how GL stores it: bottom row first
    path = tmp_path / "gl.mp4"
    with Recorder(path, (w, h), fps=10, gl_frames=True) as rec:
        for i in range(5):
            rec.write_gl(gl_bytes, t=i / 10)
        with pytest.raises(ValueError, match="65×49 RGBA"):
            rec.write_gl(gl_bytes[:-4], t=1.0)  # another size (a fullscreen toggle): said, not garbled
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert tuple(meta["size"]) == (64, 48)
    frame = np.frombuffer(next(reader), np.uint8).reshape(48, 64, 3).astype(int)
    assert frame[5, 32, 0] > 200 and frame[5, 32, 2] < 60  # the top is red
    assert frame[42, 32, 2] > 200 and frame[42, 32, 0] < 60  # the bottom is blue
