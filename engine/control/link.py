"""Ableton Link: the DJ's tempo and beat, as the same `beat` and `bpm` commands `/sync/...` sends.

A Link session is a shared timeline (tempo, and a beat whose phase within a bar of `quantum` beats
every peer agrees on), found by UDP multicast on every interface, loopback included. This module
joins it and turns the timeline into commands on the queue the render thread already drains: a
`beat` for each Link beat, due at the exact moment the beat falls (the queue holds a command
until its time, like an OSC bundle timetagged ahead), with the Link beat number as its index, and
a `bpm` with each beat and whenever the tempo moves. So `pulse` and every scene that reads
`SceneInputs.sync` lock to the session through the one path OSC and MIDI use; the render loop
and engine.sync know nothing of Link, and beat times are exact whatever the frame rate.

Nothing is sent before a first peer is there: alone, Link would only replay the tempo this
engine offered, over whatever `/sync/bpm` or a tap tempo says. Once joined, a session that ends
(the DJ's laptop leaves) keeps running on Link's own timeline, so the last tempo and the beat's
phase carry on until peers come back. The engine follows; it never sets the session's tempo.

Link's clock on Linux is CLOCK_MONOTONIC_RAW, the loop's is perf_counter (CLOCK_MONOTONIC): they
are mapped onto each other afresh before every beat, so their slow drift never adds up.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.config_meta import rng
from engine.control.commands import CommandQueue

log = logging.getLogger(__name__)

LEAD_S = 0.1  # a beat goes on the queue this long before it falls: the thread may wake late, the beat not
# The longest the thread sleeps: how soon new peers and a new tempo are seen (each look costs ~1 µs).
# Link's own callbacks are not used: linkpython-extern calls them holding a Link mutex and then waits
# for the GIL, while a Python thread holding the GIL waits for that mutex: a deadlock (seen here).
TICK_S = 0.01
INSTALL = "pip install LinkPython-extern==1.3.0 (requirements.txt)"


@dataclass(frozen=True)
class LinkSettings:
    """[link]: join an Ableton Link session (docs/link.md)."""

    enabled: bool = False
    quantum: int = field(
        default=4, metadata=rng(1, 16, "beats per bar shared with the session (set pulse.beats alike)")
    )
    bpm: float = field(
        default=120.0, metadata=rng(20, 999, "tempo offered to a session this engine starts alone")
    )


def map_clocks(link_micros: Callable[[], int], clock: Callable[[], float]) -> tuple[int, float]:
    """One instant on both clocks, (Link µs, loop s): the tightest of three back-to-back readings."""
    best: tuple[float, int, float] | None = None
    for _ in range(3):
        a = clock()
        us = link_micros()
        b = clock()
        if best is None or b - a < best[0]:
            best = (b - a, us, (a + b) / 2)
    assert best is not None
    return best[1], best[2]


class LinkSync:
    """A Link peer whose thread puts the session's beats and tempo on the command queue."""

    def __init__(
        self,
        settings: LinkSettings,
        commands: CommandQueue,
        clock: Callable[[], float],
        offline: bool = False,
    ) -> None:
        if offline:
            raise ValueError(
                "link: Link follows a live session on the wall clock; --offline renders on its own "
                "clock. Use one or the other"
            )
        try:
            import link as link_lib
        except ImportError:
            raise ValueError(f"link: the Ableton Link library is not installed: {INSTALL}") from None
        self.s = settings
        self.commands = commands
        self.clock = clock
        self._link: Any = link_lib.Link(settings.bpm)
        self._lock = threading.Lock()
        self.peers = 0
        self.joined = False  # a peer has been seen: from then on the timeline drives the sync
        self.bpm = 0.0  # the session's tempo, as last sent
        self.beats_sent = 0
        # Link's beat numbers start near 0 and may go below it as the session is joined: the indices sent
        # are shifted once by whole bars so the first lands in the 2nd bar; so they stay ≥ 0, count up,
        # and the bar lines stay where they are
        self._bars_added: int | None = None
        self.discovered_s: float | None = None  # from start() to the first peer
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        self._started = time.monotonic()
        self._link.enabled = True
        self._thread = threading.Thread(target=self._run, name="link", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Leave the session (peers are told at once: Link says goodbye) and stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._link.enabled = False

    # ------------------------------------------------------------------ state out
    def status(self) -> dict[str, object]:
        with self._lock:
            return {
                "peers": self.peers,
                "joined": self.joined,
                "bpm": round(self.bpm, 3),
                "quantum": self.s.quantum,
                "beats_sent": self.beats_sent,
                "discovered_s": None if self.discovered_s is None else round(self.discovered_s, 3),
            }

    def host_micros(self) -> int:
        """Link's clock now, in µs: the time base every peer on this host shares."""
        return self._link.clock().micros()

    def beat_at_micros(self, us: int) -> float:
        """The session's beat at Link time `us` (its phase within `quantum` is the session's)."""
        return self._link.captureAppSessionState().beatAtTime(us, self.s.quantum)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        clk = self._link.clock()
        q = self.s.quantum
        sent: int | None = None  # the Link beat number last queued
        while not self._stop.is_set():
            self._watch_peers(self._link.numPeers())
            if not self.joined:
                self._stop.wait(TICK_S)
                continue
            state = self._link.captureAppSessionState()
            us, now = map_clocks(clk.micros, self.clock)
            tempo = state.tempo()
            if abs(tempo - self.bpm) > 1e-3:  # a tempo change reaches the picture now, not next beat
                self.commands.put("bpm", (tempo,), now, origin="link")
                with self._lock:
                    self.bpm = tempo
                sent = None  # and the last beat again, timed on the new timeline: the phase goes on from it
            nxt = math.floor(state.beatAtTime(us, q)) + 1
            at = now + (state.timeAtBeat(nxt, q) - us) / 1e6
            if sent is None:  # just joined, or a new tempo: the beat that fell last, so the phase is right
                self._put_beat(nxt - 1, now + (state.timeAtBeat(nxt - 1, q) - us) / 1e6, tempo)
                sent = nxt - 1
            if nxt == sent:  # queued already: sleep past it
                self._stop.wait(min(max(at - now, 0.0) + 0.002, TICK_S))
            elif at - now <= LEAD_S:
                self._put_beat(nxt, at, tempo)
                sent = nxt
            else:
                self._stop.wait(min(at - now - LEAD_S, TICK_S))

    def _put_beat(self, index: int, at: float, tempo: float) -> None:
        if self._bars_added is None:
            self._bars_added = max(0, self.s.quantum * (1 - index // self.s.quantum))
        index += self._bars_added
        # the tempo rides with every beat: a stray /sync/bpm cannot pull the picture off the session
        self.commands.put("bpm", (tempo,), at, origin="link")
        self.commands.put("beat", (index if index >= 0 else None,), at, origin="link")
        with self._lock:
            self.beats_sent += 1

    def _watch_peers(self, peers: int) -> None:
        if peers == self.peers:
            return
        with self._lock:
            first = not self.joined and peers > 0
            self.peers = peers
            if first:
                self.joined = True
                self.discovered_s = time.monotonic() - self._started
        tempo = self._link.captureAppSessionState().tempo()
        if first:
            log.info("Link: joined a session of %d peer(s) at %.2f bpm", peers, tempo)
        elif peers == 0:
            log.warning("Link: no peers left; the picture keeps %.2f bpm and the beat", tempo)
        else:
            log.info("Link: %d peer(s) at %.2f bpm", peers, tempo)
