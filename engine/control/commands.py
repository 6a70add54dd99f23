"""Commands from the outside (OSC, keys) to the render loop, through one bounded queue.

The OSC thread never reaches into a stage: it validates a message, turns it
into a small `Command` and puts it here; the render thread drains the queue at
the start of a frame and applies the commands in arrival order. So the scene,
the latent integrator and the registry's listeners only ever run on one thread,
and a preset saved right after a parameter was set contains that value.

A command may be due later (a bundle timetagged in the future, e.g. a sound
system sending its beats 200 ms ahead): it waits in the queue until its time,
and the render loop never sleeps for it. The queue is bounded: a flood drops
the newest commands (counted), it never grows memory or a frame's work.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field

# kind → what args holds
KINDS = {
    "param": "(name, value)",
    "scene": "(name,)",
    "preset_save": "(name,)",
    "preset_load": "(name,)",
    "jump": "()",
    "seed": "(seed,)",
    "beat": "(index or None,)",
    "bpm": "(bpm,)",
    "tap": "()",
    "level": "(level,)",
    "bands": "(values tuple,)",
    "refresh": "()",
    "sleep": "(True to sleep, False to wake,)",
    "scene_step": "(+1 next or -1 previous,) keys N/P: the show's entries, else the scenes by name",
    "show": "(next|prev|pause, [True/False for pause; absent toggles])",
    "reload": "(scene|shader|config, path) a file edited under --watch (engine.watch)",
    "midi_learn": "(target,) bind the next MIDI control moved (engine.control.midi); '' cancels",
}


@dataclass(frozen=True, order=True)
class Command:
    at: float  # when it is due, on the loop's realtime clock
    seq: int
    kind: str = field(compare=False)
    args: tuple = field(compare=False, default=())
    origin: str = field(compare=False, default="osc")


class CommandQueue:
    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._heap: list[Command] = []
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self.dropped = 0

    def put(self, kind: str, args: tuple = (), at: float = 0.0, origin: str = "osc") -> bool:
        """Queue a command; False (and counted) when the queue is full."""
        if kind not in KINDS:
            raise ValueError(f"unknown command kind '{kind}'")
        with self._lock:
            if len(self._heap) >= self.capacity:
                self.dropped += 1
                return False
            heapq.heappush(self._heap, Command(at, next(self._seq), kind, args, origin))
            return True

    def drain(self, now: float, limit: int = 512) -> list[Command]:
        """Commands due at `now`, oldest first; at most `limit` so one frame's work stays bounded."""
        out: list[Command] = []
        with self._lock:
            while self._heap and self._heap[0].at <= now and len(out) < limit:
                out.append(heapq.heappop(self._heap))
        return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)
