"""NDI out through a real receiver in another process (engine.ndi_recv), on this machine's loopback.

No mDNS daemon runs here: the receiver asks 127.0.0.1 directly (the SDK's "extra IPs"). Every
process the tests start is stopped by its PID, also when an assertion fails.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine import ndi_recv
from engine.app import App
from engine.config import load_config
from engine.ndi import NdiError, NdiSender, check_ndi_name

W, H = 1280, 720


def wait_for(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def stop(proc) -> str:
    """End a receiver by its PID if it still runs; its output, for failure messages."""
    if proc.poll() is None:
        proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except Exception:  # noqa: BLE001 - it ignored SIGTERM: kill it, the test still ends
        proc.kill()
        out, _ = proc.communicate(timeout=5)
    return out or ""


def colour(i: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Frame i's top and bottom halves: distinct per frame, and telling up from down."""
    return (i * 37 % 160 + 48, 160, 64), (64, i * 53 % 160 + 48, 176)


def test_name_is_checked_before_anything_starts() -> None:
    assert check_ndi_name("  Mirror ") == "Mirror"
    for bad in ("", "   ", "a\nb", "x" * 65):
        with pytest.raises(NdiError, match=r"run\.ndi"):
            check_ndi_name(bad)
    from run_installation import main

    assert main(["--source", "demo", "--headless", "--ndi", "bad\tname", "--frames", "1"]) == 2


@pytest.mark.parametrize("rate", [30.0, 60.0])
def test_receiver_gets_every_frame_at_rate_in_colour(tmp_path: Path, rate: float) -> None:
    """1280×720 at 30 and 60 fps: the frames a receiver gets, their rate, colour and latency."""
    name = f"test-ndi-{rate:g}"
    with NdiSender(name, rate) as sender:
        assert not sender.wants_frames  # nobody watches yet: the output reads nothing back
        out = tmp_path / "recv.json"
        proc = ndi_recv.spawn(name, out, seconds=4.0, thumbs=1000, frames=0)
        try:
            assert wait_for(lambda: sender.wants_frames, 30), "the receiver never connected"
            shown: dict[int, int] = {}  # timecode → frame number
            t0, i = time.perf_counter(), 0
            while proc.poll() is None and time.perf_counter() - t0 < 20:
                top, bottom = colour(i)
                rgb = np.empty((H, W, 3), np.uint8)
                rgb[: H // 2], rgb[H // 2 :] = top, bottom
                at = time.time()
                shown[int(at * 1e7)] = i
                sender.offer(rgb, at)
                i += 1
                time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            said = stop(proc)
            assert proc.returncode == 0, said
            result = json.loads(out.read_text())
            # the receiver has gone: the sender stops asking for pixels (no receiver, no cost)
            assert wait_for(lambda: not sender.wants_frames, 5)
        finally:
            stop(proc)
    s, frames = result["summary"], result["frames"]
    assert s["sizes"] == [f"{W}x{H}"] and s["declared_fps"] == [rate]
    assert s["fps"] >= 0.8 * rate, s  # measured 30.0 and 60.1 on a two-core machine
    assert s["latency_ms"]["p50"] < 50, s  # measured 9 and 14 ms
    assert sender.sent >= s["frames"] and sender.failed == ""
    worst = 0.0
    for f in frames:
        assert f["timecode"] in shown, "a frame came with a timecode the engine never set"
        top, bottom = colour(shown[f["timecode"]])
        thumb = np.array(f["thumb"], float)  # 18 rows × 32 columns × RGB
        # NDI's codec is lossy (YUV 4:2:2): some levels off (≤ 10 seen); the next frame is ≥ 37 away
        worst = max(worst, np.abs(thumb[:8].mean(axis=(0, 1)) - top).max())
        worst = max(worst, np.abs(thumb[10:].mean(axis=(0, 1)) - bottom).max())
    assert worst < 16, worst
    numbers = [shown[f["timecode"]] for f in frames]
    assert numbers == sorted(numbers)  # in order


@pytest.mark.slow
def test_engine_sends_its_presented_frames_only_while_received(tmp_path: Path) -> None:
    """The real loop (demo visitor, shipped model): NDI carries what the engine presented, as its own
    readback shows it; with no receiver, the output reads nothing back for NDI."""
    cfg = load_config(
        None,
        {
            "run": {"source": "demo", "headless": True, "size": "640x360", "ndi": "test-ndi-engine"},
            "osc": {"listen": "127.0.0.1:0"},
        },
    )
    app = App(cfg)
    readback: list[tuple[float, np.ndarray]] = []  # (when shown, thumbnail) from the engine's side

    def keep(rgb: np.ndarray, _step) -> None:
        readback.append((time.time(), ndi_recv.thumbnail(rgb, (32, 18)).astype(float)))

    runner = threading.Thread(target=app.run, daemon=True)
    runner.start()
    out = tmp_path / "recv.json"
    proc = None
    try:
        assert wait_for(lambda: app.presented >= 30, 120), "the engine presented nothing"
        sender = app.output.ndi
        assert sender is not None and sender.connections == 0 and sender.offered == 0
        app.on_frame = keep  # from here on the engine's own readback, to compare with
        proc = ndi_recv.spawn("test-ndi-engine", out, seconds=30, frames=60, thumbs=60)
        proc.wait(timeout=60)
        said = stop(proc)
        assert proc.returncode == 0, said
        ndi_status = app.status()["ndi"]  # /status and the web panel show it
        assert ndi_status["source"].endswith("(test-ndi-engine)") and ndi_status["sent"] >= 60
        assert wait_for(lambda: sender.connections == 0, 5)
        time.sleep(0.2)
        offered, presented = sender.offered, app.presented
        assert wait_for(lambda: app.presented >= presented + 15, 30)
        assert sender.offered == offered  # the receiver left: no more pixels for NDI
    finally:
        if proc is not None:
            stop(proc)
        app.stop.set()
        runner.join(timeout=60)
    assert app.exit_code == 0
    frames = json.loads(out.read_text())["frames"]
    assert len(frames) == 60
    assert {(f["w"], f["h"]) for f in frames} == {(640, 360)}
    shown = np.array([t for t, _ in readback])
    matched = 0
    for f in frames:
        at = f["timecode"] * 1e-7
        k = int(np.argmin(np.abs(shown - at)))
        assert abs(shown[k] - at) < 0.01, "an NDI frame the engine did not present"
        thumb, ours = np.array(f["thumb"], float), readback[k][1]
        err = np.abs(thumb - ours).mean()
        assert err < 4, err  # lossy codec: a few levels (≈ 2 seen)
        if np.abs(ours - ours[::-1]).mean() > 4 * err + 4:  # a picture that tells up from down
            matched += 1
    assert matched >= 30, "too few frames whose orientation could be checked"
