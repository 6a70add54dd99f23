"""MIDI settings and mappings as declared data: which control drives which parameter or command.

A mapping names one control (a CC or a note, on a channel or any, from a port or any) and one
target: a parameter (through the same range and curve table as an OSC mapping, engine.control.osc.mapping, so
feedback inverts it the same way), a trigger address, a scene or a preset. Mappings come from the
config's `[[midi.map]]` and from MIDI learn, which writes its own file (`[midi] learned`): the
engine never rewrites the user's config, so their comments and layout survive, and a file only
the engine writes can be replaced atomically. Learned mappings override the config's on the
same control.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

from engine.config_meta import choices, rng
from engine.control.osc.mapping import OscMapping
from engine.curves import CURVES
from engine.presets import default_folder

# Addresses a button may fire: each takes no argument (a toggle where it has a state)
TRIGGERS = (
    "/latent/jump",
    "/show/next",
    "/show/prev",
    "/show/pause",
    "/engine/refresh",
    "/engine/sleep",
    "/engine/wake",
    "/sync/tap",
    "/sync/beat",
)
APIS = ("auto", "jack", "alsa", "coremidi", "winmm")


@dataclass(frozen=True)
class MidiMapping:
    cc: int = field(default=-1, metadata=rng(-1, 127, "controller number (-1: not a CC mapping)"))
    note: int = field(default=-1, metadata=rng(-1, 127, "note number (-1: not a note mapping)"))
    channel: int = field(default=0, metadata=rng(0, 16, "MIDI channel 1..16 (0 = any)"))
    port: str = ""  # part of the input port's name, case-insensitive ("" = any port)
    param: str = ""  # a parameter's dotted name, or…
    to: str = ""  # …a trigger address (TRIGGERS), fired when the control passes half way up, or…
    scene: str = ""  # …a scene to switch to, or…
    preset: str = ""  # …a preset to load
    in_lo: float = field(default=0.0, metadata=rng(0, 127, "controller value of the range's low end"))
    in_hi: float = field(default=127.0, metadata=rng(0, 127, "controller value of the high end"))
    out_lo: float | None = None  # None: the parameter's lo
    out_hi: float | None = None  # None: the parameter's hi
    curve: str = field(default="linear", metadata=choices(*CURVES))
    feedback: bool = True  # send the parameter's value back to the controller (motor faders, LEDs)

    def validate(self) -> None:
        if (self.cc >= 0) == (self.note >= 0):
            raise ValueError(f"{self.control()}: give exactly one of 'cc' or 'note' (0..127)")
        if sum(bool(t) for t in (self.param, self.to, self.scene, self.preset)) != 1:
            raise ValueError(f"{self.control()}: give exactly one of 'param', 'to', 'scene' or 'preset'")
        if self.to and self.to not in TRIGGERS:
            raise ValueError(f"{self.control()}: to = '{self.to}' must be one of {', '.join(TRIGGERS)}")
        if self.in_lo == self.in_hi:
            raise ValueError(f"{self.control()}: in_lo and in_hi must differ")

    @property
    def kind(self) -> str:
        return "cc" if self.cc >= 0 else "note"

    @property
    def number(self) -> int:
        return self.cc if self.cc >= 0 else self.note

    def control(self) -> str:
        """The control as said in log lines and errors: 'cc 7 on channel 1 of any port'."""
        ch = f"channel {self.channel}" if self.channel else "any channel"
        return f"{self.kind} {self.number} on {ch} of {repr(self.port) if self.port else 'any port'}"

    def same_control(self, other: MidiMapping) -> bool:
        return (self.kind, self.number, self.channel, self.port) == (
            other.kind,
            other.number,
            other.channel,
            other.port,
        )

    def matches(self, port: str, channel: int, kind: str, number: int) -> bool:
        """Whether a message (channel 1..16) from `port` comes from this mapping's control."""
        return (
            kind == self.kind
            and number == self.number
            and self.channel in (0, channel)
            and (not self.port or self.port.lower() in port.lower())
        )

    def curve_map(self) -> OscMapping:
        """The same range-and-curve mapping as OSC's: forward for input, inverse for feedback."""
        return OscMapping(
            address="/midi",
            param=self.param or "-",
            in_lo=self.in_lo,
            in_hi=self.in_hi,
            out_lo=self.out_lo,
            out_hi=self.out_hi,
            curve=self.curve,
        )

    def pressed(self, value: float) -> bool:
        """A button's state: past half way from in_lo to in_hi (a note-on of any velocity is)."""
        return (value - self.in_lo) / (self.in_hi - self.in_lo) >= 0.5


def target_mapping(target: str, kind: str, number: int, channel: int) -> MidiMapping:
    """What MIDI learn binds: `target` is a parameter, a trigger address, scene:NAME or preset:NAME."""
    control = {"cc": number} if kind == "cc" else {"note": number}
    if target.startswith("scene:"):
        m = MidiMapping(**control, channel=channel, scene=target[len("scene:") :])
    elif target.startswith("preset:"):
        m = MidiMapping(**control, channel=channel, preset=target[len("preset:") :])
    elif target.startswith("/"):
        m = MidiMapping(**control, channel=channel, to=target)
    else:
        m = MidiMapping(**control, channel=channel, param=target)
    m.validate()
    return m


@dataclass(frozen=True)
class MidiSettings:
    """[midi]: ports, feedback and learn; docs/midi.md. `in` and `out` in the file are the ports."""

    inputs: tuple[str, ...] = ()  # `in`: input port names (or a part of one), or "all"; () = no MIDI
    outputs: tuple[str, ...] = ()  # `out`: feedback ports; () = each input's own output port
    api: str = field(default="auto", metadata=choices(*APIS, doc="auto: ALSA, else JACK (Linux)"))
    client: str = "latent-mirror"  # the engine's client name in JACK or ALSA
    feedback: bool = True
    feedback_rate: float = field(default=50.0, metadata=rng(1, 1000, "feedback flushes per second"))
    out_rate: float = field(default=500.0, metadata=rng(10, 3000, "feedback messages/s per port"))
    poll_s: float = field(default=1.0, metadata=rng(0.05, 60, "how often ports are looked for"))
    reconnect_max_s: float = field(default=8.0, metadata=rng(0.05, 600, "longest wait between tries"))
    learn_timeout_s: float = field(default=30.0, metadata=rng(1, 3600, "how long learn waits"))
    learned: str = ""  # the file MIDI learn writes ("" = ~/.local/share/latent-mirror/midi.toml)
    map: tuple[MidiMapping, ...] = ()  # [[midi.map]]

    def validate(self) -> None:
        if "all" in self.inputs and len(self.inputs) > 1:
            raise ValueError(f"midi.in = {list(self.inputs)}: 'all' already takes every port")
        if not self.client or ":" in self.client:
            raise ValueError(f"midi.client = {self.client!r} must be a name without ':'")

    def learned_path(self) -> Path:
        return Path(self.learned).expanduser() if self.learned else default_folder().parent / "midi.toml"


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)  # JSON's escapes are TOML's basic-string escapes
    return repr(v)


def write_learned(path: Path, mappings: list[MidiMapping]) -> None:
    """Replace `path` atomically (temp file + rename): a crash mid-write leaves the old file."""
    defaults = MidiMapping()
    lines = ["# MIDI learn's mappings, written by the engine (docs/midi.md). Edit with the engine stopped."]
    for m in mappings:
        lines += ["", "[[map]]"]
        for f in fields(m):
            v = getattr(m, f.name)
            if v != getattr(defaults, f.name):
                lines.append(f"{f.name} = {_toml_value(v)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".midi-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge(config: tuple[MidiMapping, ...], learned: list[MidiMapping]) -> list[MidiMapping]:
    """The config's mappings less those a learned one replaced (same control), then the learned."""
    kept = [m for m in config if not any(m.same_control(n) for n in learned)]
    return kept + list(learned)
