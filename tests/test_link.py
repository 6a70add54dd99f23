"""Ableton Link between two real peers in two processes: a DJ stand-in (tests/link_peer.py) runs a
session, the engine's LinkSync joins it over UDP multicast (loopback and the LAN interface, as on
any machine), and the tempo, the beat, a tempo change, the session's end, and finally `pulse` in the
realtime loop are checked against the peer's own timeline at the same host time."""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.config import ConfigError, load_config
from engine.control.commands import CommandQueue
from engine.control.link import LinkSettings, LinkSync
from engine.sync import SyncTracker
from tests.waiting import wait_until

pytest.importorskip("link", reason="LinkPython-extern not installed (requirements.txt)")

ROOT = Path(__file__).resolve().parents[1]
BPM = 128.0
Q = 4


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: no orphan peers


def _wait(cond: Callable[[], object], timeout: float, what: str, poll: float = 0.002) -> object:
    return wait_until(cond, timeout, what, poll)


def host_us() -> int:
    """Link's clock on Linux (CLOCK_MONOTONIC_RAW, µs): one time base for both processes."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000


def wrap(x: float, period: float) -> float:
    """x folded into [-period/2, period/2): a difference of phases."""
    return (x + period / 2) % period - period / 2


class Peer:
    """The DJ: another process with its own Link session, driven over its stdin."""

    def __init__(self, bpm: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "link_peer.py"), str(bpm), str(Q)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}
        # The DJ's session has been running a while when the engine joins. Link lets the older session
        # win (Sessions.hpp: sessions born within 0.5 s of each other are ordered by chance; measured
        # here, a peer 0.6 s older still lost 1 time in 8, one 2 s older never in 8)
        time.sleep(2.0)

    def ask(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def timeline(self) -> Callable[[int], float]:
        """The peer's beat at any host µs (its tempo held constant, as the test keeps it)."""
        s = self.ask("state")
        return lambda us: s["beat"] + (us - s["us"]) * s["tempo"] / 60e6

    def quit(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer(BPM)
    try:
        yield p
    finally:
        p.quit()


class Rig:
    """The engine side without the models: LinkSync's commands applied to a SyncTracker exactly as
    Pipeline._apply does in realtime (each at min(its time, the frame's))."""

    def __init__(self) -> None:
        self.q = CommandQueue()
        self.sync = SyncTracker()
        # offered tempo ≠ the peer's: the engine must adopt the running session's, not impose its own
        self.link = LinkSync(LinkSettings(enabled=True, quantum=Q, bpm=100.0), self.q, time.perf_counter)

    def frame(self) -> tuple[float, int, dict[str, float]]:
        """One frame: drain, apply, snapshot; returns (loop time, host µs at that time, sync)."""
        t, us = time.perf_counter(), host_us()
        for cmd in self.q.drain(t):
            at = min(cmd.at, t)
            if cmd.kind == "beat":
                self.sync.beat(at, cmd.args[0])
            elif cmd.kind == "bpm":
                self.sync.set_bpm(at, cmd.args[0])
        return t, us, self.sync.snapshot(t)

    def run(self, seconds: float, fps: float = 60.0) -> list[tuple[float, int, dict[str, float]]]:
        out = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            out.append(self.frame())
            time.sleep(1 / fps)
        return out


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    try:
        yield r
    finally:
        r.link.close()


def test_link_clock_is_the_host_clock(rig: Rig) -> None:
    """The tests compare the two processes on CLOCK_MONOTONIC_RAW: Link's clock must be that one."""
    assert abs(rig.link.host_micros() - host_us()) < 1000


def test_two_peers_agree_on_tempo_and_beat(peer: Peer, rig: Rig) -> None:
    t0 = time.monotonic()
    rig.link.start()
    _wait(lambda: rig.link.status()["peers"] >= 1, 1.0, "the engine to find the peer within a second")
    found = time.monotonic() - t0
    _wait(lambda: peer.ask("state")["peers"] == 1, 1.0, "the peer to see the engine", poll=0.01)
    both = time.monotonic() - t0
    try:
        _wait(lambda: abs(rig.link.status()["bpm"] - BPM) < 1e-3, 1.0, "the session's tempo")
    except AssertionError as e:
        raise AssertionError(f"{e}; engine: {rig.link.status()}, peer: {peer.ask('state')}") from None
    # the two Link timelines at the same host instants
    link_diffs = []
    for _ in range(20):
        s = peer.ask("state")
        link_diffs.append(wrap(s["beat"] - rig.link.beat_at_micros(s["us"]), Q))
        assert abs(s["tempo"] - BPM) < 1e-6 and s["peers"] == 1
        time.sleep(0.02)
    # what the scenes see: the tracker fed by the queued commands, frame by frame, against the peer
    frames = rig.run(2.0)
    beat_of = peer.timeline()
    phase_diffs, bars = [], []
    for _, us, snap in frames[1:]:  # queued beats drain at the first frame: from then on, in time
        ref = beat_of(us)
        phase_diffs.append(wrap(snap["beat_phase"] - ref % 1.0, 1.0))
        assert snap["bpm"] == pytest.approx(BPM, abs=1e-3)
        if 0.02 < ref % 1.0 < 0.98:  # the bar position: the session's beat number, modulo the quantum
            bars.append(int(snap["beat_count"]) % int(Q) == math.floor(ref) % int(Q))
    assert max(map(abs, link_diffs)) < 0.01  # the brief asks < 0.05; one host gives ~0.00002
    assert max(map(abs, phase_diffs)) < 0.01
    assert bars and all(bars)
    print(
        f"\nLink: the engine found the peer in {found * 1000:.0f} ms, both saw each other in "
        f"{both * 1000:.0f} ms; "
        f"tempo {rig.link.status()['bpm']} vs {BPM} bpm; Link beat difference mean "
        f"{statistics.mean(link_diffs):+.5f} max {max(map(abs, link_diffs)):.5f} beat; sync beat_phase vs "
        f"peer over {len(phase_diffs)} frames: mean {statistics.mean(phase_diffs):+.5f} "
        f"max {max(map(abs, phase_diffs)):.5f} beat ({max(map(abs, phase_diffs)) * 60e3 / BPM:.2f} ms)"
    )


def test_tempo_change_followed_and_kept_when_the_session_ends(peer: Peer, rig: Rig) -> None:
    rig.link.start()
    _wait(lambda: rig.link.status()["peers"] >= 1, 2.0, "the peer")
    rig.run(0.6)
    t0 = time.monotonic()
    assert peer.ask("tempo 140") == {"tempo": 140.0}
    _wait(lambda: rig.frame()[2]["bpm"] == pytest.approx(140.0, abs=1e-3), 1.0, "the new tempo")
    followed = time.monotonic() - t0
    peer.quit()  # the DJ leaves: Link says goodbye
    _wait(lambda: rig.link.status()["peers"] == 0, 3.0, "the peer to be gone")
    sent = rig.link.status()["beats_sent"]
    frames = rig.run(2.0)
    assert all(s["bpm"] == pytest.approx(140.0, abs=1e-3) for _, _, s in frames)
    assert rig.link.status()["beats_sent"] >= sent + 4  # 2 s at 140 bpm: the beat goes on
    assert frames[-1][2]["active"] == 1.0 and max(s["beat_pulse"] for _, _, s in frames) > 0.5
    print(f"\nLink: a tempo change at the peer reached the sync in {followed * 1000:.1f} ms")


def test_nothing_is_sent_without_peers(rig: Rig) -> None:
    """Alone, Link would replay the engine's own offered tempo over /sync/bpm or a tap tempo."""
    rig.link.start()
    time.sleep(0.4)
    assert rig.link.status()["joined"] is False and len(rig.q) == 0


def test_negative_link_beats_are_shifted_by_whole_bars() -> None:
    """Just after joining, Link's beat numbers may be below 0: the indices stay ≥ 0, keep counting up
    and keep the bar (a beat's number modulo the quantum), so `pulse` never jumps back a bar."""
    q = CommandQueue()
    sync = LinkSync(LinkSettings(enabled=True, quantum=Q), q, time.perf_counter)
    for i, link_beat in enumerate((-6, -5, -4, 0, 1)):
        sync._put_beat(link_beat, float(i), BPM)
    beats = [c.args[0] for c in q.drain(10.0) if c.kind == "beat"]
    assert beats == [6, 7, 8, 12, 13]  # the first lands in the 2nd bar: room for Link's re-mapping


def test_config_flag_and_offline() -> None:
    from run_installation import overrides, parse_args

    assert overrides(parse_args(["--link"]))["link"] == {"enabled": True}
    assert "link" not in overrides(parse_args([]))
    cfg = load_config(None, {"link": {"enabled": True, "quantum": 3}})
    assert cfg.link == LinkSettings(enabled=True, quantum=3)
    with pytest.raises(ConfigError, match=r"link\.quantum"):
        load_config(None, {"link": {"quantum": 0}})
    with pytest.raises(ConfigError, match=r"link\.tempo"):
        load_config(None, {"link": {"tempo": 120}})
    with pytest.raises(ValueError, match="--offline"):
        LinkSync(LinkSettings(enabled=True), CommandQueue(), time.perf_counter, offline=True)


def test_pulse_kicks_on_the_link_beat_in_the_realtime_loop(peer: Peer) -> None:
    """The real realtime loop, `pulse` on screen, Link on: every frame's beat position and kick (the
    `intensity` uniform, 1 + 0.3·kick) against the peer's beat at that frame's time."""
    from engine.app import App
    from scenes.pulse import OFF_BEAT

    run = {"source": "demo", "headless": True, "frames": 150, "size": "160x90", "scene": "pulse"}
    app = App(load_config(None, {"run": run, "osc": {"listen": "off"}, "link": {"enabled": True}}))
    rows: list[tuple[float, float, float, float, int]] = []  # (loop t, bpm, scene's beat, kick, count)
    advance = app.pipeline.advance

    def recording(viewer, t, dt, dim=0.0):
        step = advance(viewer, t, dt, dim)
        scene = app.pipeline.scene
        bpm = app.pipeline.sync.bpm()
        kick = (step.target.uniforms["intensity"] - 1.0) / 0.3
        rows.append((t, bpm, scene.pos, kick, app.pipeline.sync.beat_count))
        return step

    app.pipeline.advance = recording
    to_us = lambda: host_us() - app.wall.now() * 1e6  # noqa: E731 - loop time → host µs
    offset_before = to_us()
    assert app.run() == 0
    offset_after = to_us()
    beat_of = peer.timeline()
    assert abs(offset_after - offset_before) < 2000  # the two clocks drift < 2 ms over the run
    offset = (offset_before + offset_after) / 2
    # pulse takes its bar from a beat's arrival (`count` changes), not from its first frame: when Link
    # joined before that frame, the bar is right from the next Link beat on (the phase at once)
    locked = [r for r in rows if abs(r[1] - BPM) < 1e-3 and r[4] != rows[0][4]]
    assert len(locked) > 40, f"{len(locked)} of {len(rows)} frames; {app.pipeline.link.status()}"
    decay = min(0.1, 7.5 / BPM)
    pos_diffs, kick_ms, bars, onsets = [], [], [], {}
    for t, _, pos, kick, _ in locked:
        ref = beat_of(round(t * 1e6 + offset))
        pos_diffs.append(wrap(pos - ref, Q))  # the visual beat (and bar) against the session's
        if 0.02 < ref % 1.0 < 0.98:
            bars.append(math.floor(pos) % int(Q) == math.floor(ref) % int(Q))
        # the Link beat this frame's kick belongs to is the scene's beat: a frame a hair either side of
        # a beat (within the pos_diffs bound) is measured against that beat, not the one before it
        beat = math.floor(pos)
        since_link = (ref - beat) * 60 / BPM  # seconds since that Link beat (< 0 when just before it)
        amp = 1.0 if beat % int(Q) == 0 else OFF_BEAT
        if kick > 0.01:  # the kick's age, read back from its decay, against the time since the Link beat
            since_visual = -decay * math.log(kick / amp)
            kick_ms.append((since_visual - since_link) * 1000)
        onsets.setdefault(beat, []).append((kick, since_link))
    first_frames = [max(v)[1] == min(ph for _, ph in v) for b, v in onsets.items() if len(v) > 3]
    assert max(map(abs, pos_diffs)) < 0.01
    assert bars and all(bars)
    assert len(kick_ms) > 10 and abs(statistics.mean(kick_ms)) < 2.0  # ms
    assert first_frames and all(first_frames)  # each beat's strongest kick: its first frame
    print(
        f"\npulse vs Link over {len(locked)} frames ({len(onsets)} beats): scene beat − Link beat mean "
        f"{statistics.mean(pos_diffs):+.5f} max {max(map(abs, pos_diffs)):.5f} beat; kick age − time "
        f"since the Link beat over {len(kick_ms)} frames: mean {statistics.mean(kick_ms):+.3f} ms "
        f"(max {max(map(abs, kick_ms)):.3f} ms); app status link: {app.pipeline.link.status()}"
    )
