"""MIDI ports: which of the system's ports the engine opens, and finding them again when they vanish.

Ports are looked for by polling (neither ALSA nor JACK tells rtmidi that a controller was
unplugged): every `poll_s` while all are there, with a wait that doubles up to `reconnect_max_s`
while one is missing. Each change of state is one log line: a port missing, a port back. The
engine's own ports (its client name) are never taken for a controller's, so `in = ["all"]` does
not listen to itself. `auto` on Linux without an ALSA sequencer (containers, CI: no sound in the
kernel) means JACK, whose ports are then the only ones there are.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import rtmidi

from engine.control.midi_map import MidiSettings
from engine.control.osc.safety import LogThrottle

log = logging.getLogger("engine.control.midi")

_APIS = {"jack": "API_UNIX_JACK", "alsa": "API_LINUX_ALSA", "coremidi": "API_MACOSX_CORE"}
_APIS["winmm"] = "API_WINDOWS_MM"
OnMessage = Callable[[tuple[list[int], float], str], None]  # rtmidi's (bytes, delta), the port


def api_id(name: str) -> int:
    """rtmidi's API for `[midi] api` (ValueError naming the key when this build lacks it)."""
    if name == "auto":
        if not (sys.platform.startswith("linux") and not os.path.exists("/dev/snd/seq")):
            return rtmidi.API_UNSPECIFIED
        name = "jack"
    api = getattr(rtmidi, _APIS[name])
    if api not in rtmidi.get_compiled_api():
        raise ValueError(f"midi.api = '{name}': this python-rtmidi was built without it")
    return api


def find_port(spec: str, names: list[str]) -> str | None:
    """The port `spec` names: exactly, else the first containing it (ALSA numbers change per boot)."""
    if spec in names:
        return spec
    return next((n for n in names if spec.lower() in n.lower()), None)


def partner(name: str, outputs: list[str]) -> str | None:
    """A controller's output port for feedback: the same name (ALSA); else the same name once JACK's
    client suffix (-01) and a2jmidid's (capture)/(playback) are set aside; else the one output of
    the same client. None when that is ambiguous: then --midi-out names it."""
    if name in outputs:
        return name
    same = [o for o in outputs if _plain(o) == _plain(name)]
    if same:
        return same[0]
    client = _plain(name).split(":", 1)[0]
    mine = [o for o in outputs if _plain(o).split(":", 1)[0] == client]
    return mine[0] if len(mine) == 1 else None


def _plain(port: str) -> str:
    client, _, rest = port.partition(":")
    rest = rest.replace("(capture)", "").replace("(playback)", "")
    return f"{re.sub(r'-[0-9]+$', '', client)}:{' '.join(rest.split())}".lower()


def _label(way: str, name: str) -> str:
    """The engine's port name in JACK/ALSA: which controller it serves, without the client colon."""
    return f"{way} {name.replace(':', ' ')}"[:60]


@dataclass
class Out:
    name: str
    partner: str  # the input port it answers for ("" = a port named by midi.out)
    rt: rtmidi.MidiOut
    queue: dict[tuple[str, int, int], int] = field(default_factory=dict)  # newest value per control


class MidiPorts:
    """Owned by the midi thread: `poll` and `close` run there only; `ins`/`outs` are read elsewhere."""

    def __init__(self, s: MidiSettings, on_message: OnMessage, on_output: Callable[[Out], None]) -> None:
        self.s = s
        self.api = api_id(s.api)
        os.environ.setdefault("JACK_NO_START_SERVER", "1")  # an engine never starts an audio server
        self.on_message = on_message
        self.on_output = on_output  # a feedback port (re)opened: the engine sends where things are
        self.ins: dict[str, rtmidi.MidiIn] = {}
        self.outs: dict[str, Out] = {}
        self.delay = s.poll_s  # until the next poll
        self.warn = LogThrottle(log)
        self._listers: tuple[rtmidi.MidiIn, rtmidi.MidiOut] | None = None
        self._missing: set[str] = set()

    def _list(self) -> tuple[list[str], list[str]]:
        if self._listers is None:
            self._listers = (rtmidi.MidiIn(self.api, self.s.client), rtmidi.MidiOut(self.api, self.s.client))
        ours = self.s.client
        ins, outs = (
            [n for n in r.get_ports() if not n.split(":", 1)[0].startswith(ours)] for r in self._listers
        )
        return ins, outs

    def poll(self) -> None:
        try:
            ins, outs = self._list()
        except (OSError, RuntimeError) as e:  # no MIDI system (JACK not running): keep looking
            self._listers = None
            ins, outs = [], []
            self._say("system", f"MIDI: no MIDI system ({e})", "MIDI: the MIDI system is there")
        else:
            self._say("system", "", "MIDI: the MIDI system is there")
        specs = self.s.inputs
        wanted = ins if "all" in specs else [p for s in specs if (p := find_port(s, ins))]
        for spec in specs if "all" not in specs else ():
            self._say(f"in {spec}", "" if find_port(spec, ins) else f"MIDI in: no port matching '{spec}'")
        for name in [n for n in self.ins if n not in wanted]:
            self._close_in(name)
        for name in [n for n in wanted if n not in self.ins]:
            self._open_in(name, ins.index(name))
        want_out = {}
        for spec in self.s.outputs:
            found = find_port(spec, outs)
            self._say(f"out {spec}", "" if found else f"MIDI out: no port matching '{spec}'")
            if found:
                want_out[found] = ""
        if self.s.feedback and not self.s.outputs:
            for name in self.ins:
                if p := partner(name, outs):
                    want_out[p] = name
        for name in [n for n in self.outs if n not in want_out]:
            self._close_out(name)
        for name, answers in want_out.items():
            if name not in self.outs:
                self._open_out(name, outs.index(name), answers)
        self.delay = min(self.delay * 2, self.s.reconnect_max_s) if self._missing else self.s.poll_s

    def _say(self, key: str, missing: str, back: str = "") -> None:
        """One log line per change of a port's state: missing (with the wait), and back."""
        if missing and key not in self._missing:
            self._missing.add(key)
            log.warning("%s; looking again every ≤%g s", missing, self.s.reconnect_max_s)
        elif not missing and key in self._missing:
            self._missing.discard(key)
            if back:
                log.info("%s", back)

    def _open_in(self, name: str, index: int) -> None:
        try:
            rt = rtmidi.MidiIn(self.api, self.s.client, queue_size_limit=1024)
            rt.ignore_types(sysex=True, timing=True, active_sense=True)
            rt.set_callback(self.on_message, name)
            rt.open_port(index, _label("in", name))
        except (OSError, RuntimeError) as e:
            self.warn(f"open:{name}", "MIDI in: cannot open %s (%s)", name, e)
            return
        self.ins[name] = rt
        log.info("MIDI in: listening to %s", name)

    def _close_in(self, name: str, quiet: bool = False) -> None:
        rt = self.ins.pop(name)
        rt.cancel_callback()
        rt.close_port()
        rt.delete()
        if "all" in self.s.inputs and not quiet:  # a named port's absence is said by _say, once
            log.warning("MIDI in: %s is gone (unplugged?)", name)

    def _open_out(self, name: str, index: int, answers: str) -> None:
        try:
            rt = rtmidi.MidiOut(self.api, self.s.client)
            rt.open_port(index, _label("out", name))
        except (OSError, RuntimeError) as e:
            self.warn(f"open:{name}", "MIDI out: cannot open %s (%s)", name, e)
            return
        out = self.outs[name] = Out(name, answers, rt)
        log.info("MIDI out: feedback to %s", name)
        self.on_output(out)

    def _close_out(self, name: str, quiet: bool = False) -> None:
        out = self.outs.pop(name)
        out.rt.close_port()
        out.rt.delete()
        if out.partner and not quiet:  # a named port's absence is said by _say, once
            log.warning("MIDI out: %s is gone (unplugged?)", name)

    def close(self) -> None:
        for name in list(self.ins):
            self._close_in(name, quiet=True)
        for name in list(self.outs):
            self._close_out(name, quiet=True)
        for r in self._listers or ():
            r.delete()
        self._listers = None
