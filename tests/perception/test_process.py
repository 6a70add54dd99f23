"""Perception in a child process: the same viewer as in-process, and a child that dies is replaced."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.config import load_config
from engine.messages import Frame
from engine.perception import process as perception_process
from engine.perception.crowd import build_perceiver
from engine.perception.process import PerceptionProcess, PerceptionProcessError
from tests.perception import photos


def config():
    return load_config(None, {"run": {"source": "demo"}, "perception": {"static_images": True}})


@pytest.fixture(scope="module")
def child() -> Iterator[PerceptionProcess]:
    p = PerceptionProcess(config())
    yield p
    p.close()


def frames(n: int) -> list[Frame]:
    image = photos.in_frame(photos.astronaut())
    return [Frame(image, i / 30.0, i, "test") for i in range(1, n + 1)]


def test_the_child_sees_what_the_perceiver_in_this_process_sees(child: PerceptionProcess) -> None:
    here = build_perceiver(config())
    try:
        child.reset()
        ours = [here.process(f) for f in frames(4)]
        theirs = [child.process(f) for f in frames(4)]
    finally:
        here.close()
    assert theirs[-1].features["presence"] == 1.0  # the astronaut is there, seen through the pipe
    for a, b in zip(ours, theirs, strict=True):
        assert b.frame_index == a.frame_index and b.capture_time == a.capture_time
        for name, value in a.features.items():
            assert b.features[name] == pytest.approx(value, abs=1e-5), name
        assert b.mask is not None and a.mask is not None and np.allclose(a.mask, b.mask, atol=1e-5)


def test_a_child_that_dies_is_replaced_and_the_caller_told_meanwhile(monkeypatch) -> None:
    monkeypatch.setattr(perception_process, "RESTART_S", (0.2, 1.0))
    p = PerceptionProcess(config())
    try:
        first = p._proc.pid
        assert p.status() == {"pid": first, "up": True, "restarts": 0}
        os.kill(first, signal.SIGKILL)  # MediaPipe crashed
        p._proc.join(timeout=5)
        assert p.status() == {"pid": None, "up": False, "restarts": 0}  # what /status shows meanwhile
        with pytest.raises(PerceptionProcessError, match="restarting"):
            p.process(frames(1)[0])
        deadline = time.monotonic() + 60
        viewer = None
        while viewer is None and time.monotonic() < deadline:
            try:
                viewer = p.process(frames(1)[0])
            except PerceptionProcessError as e:
                assert "starting" in str(e) or "restarting" in str(e)
                time.sleep(0.1)
        assert viewer is not None and p.restarts == 1 and p._proc.pid != first
        assert p.status() == {"pid": p._proc.pid, "up": True, "restarts": 1}
    finally:
        p.close()


def test_frames_of_any_shape_and_type_cross_the_pipe_as_they_are(child: PerceptionProcess) -> None:
    """The header carries shape and dtype: a grey or float frame reaches the perceiver unchanged,
    which copes with it (nobody there), instead of a garbled picture or a hung pipe."""
    child.reset()  # fresh presence: the other tests showed it the astronaut
    for image in (np.zeros((4, 4), np.uint8), np.zeros((48, 64, 3), np.float64)):
        v = child.process(Frame(image, 0.5, 7, "test"))
        assert v.frame_index == 7 and v.features["presence"] == 0.0
    assert child.process(frames(1)[0]).frame_index == 1  # and a real frame after them is perceived


def test_close_ends_the_child() -> None:
    p = PerceptionProcess(config())
    proc = p._proc
    p.close()
    assert not proc.is_alive()
    p.close()  # twice is harmless


def test_the_child_is_named_perception_for_top_and_the_cpu_table(child: PerceptionProcess) -> None:
    from engine.procstat import thread_cpu

    names = {name for name, _ in thread_cpu().values()}
    assert "perception" in names  # the child's main thread, found among this process's children
    assert Path(f"/proc/{child._proc.pid}/comm").read_text().strip() == "perception"
