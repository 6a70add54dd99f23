"""One typed, frozen configuration: a TOML file plus command-line overrides.

Every setting lives in a section dataclass with its range or choices, so a
typo or an out-of-range value stops the start with one line naming the key
(exit 2) instead of surfacing as odd behaviour in the gallery weeks later.
The settings of unattended operation (engine.ops_settings), the range helpers `rng`/`choices` and
ConfigError (engine.config_meta, which also holds the one value check) are re-exported here, so every
section is still imported from engine.config.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibration.files import CalibrationError
from calibration.room import Room, load_room
from engine.config_meta import ConfigError, check_value, choices, field_types, rng
from engine.control.link import LinkSettings
from engine.control.midi_map import MidiMapping, MidiSettings
from engine.control.osc.mapping import OscMapping
from engine.control.osc.safety import is_loopback_host, parse_network
from engine.control.osc.sender import CONTROLLER_GROUPS, SOUND_GROUPS, OscTargetSettings
from engine.generator.remote_link import parse_remote
from engine.hostport import parse_listen, parse_target
from engine.latent import LatentSettings
from engine.ops_settings import HttpSettings, LogSettings, ScheduleSettings, WatchdogSettings
from engine.perception.crowd import CrowdSettings
from engine.perception.settings import PerceptionSettings
from engine.scene_settings import ScenesSettings, ShowEntry, ShowSettings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "painterly"


@dataclass(frozen=True)
class RunSettings:
    scene: str = "mirror"
    source: str = "0"  # camera index, video/image path, or "demo"
    headless: bool = False
    frames: int = field(default=0, metadata=rng(0, 10**9, "stop after N presented frames (0 = run forever)"))
    record: str = ""
    ndi: str = ""  # send the presented frames as an NDI source of this name ("" = off; engine.ndi)
    offline: bool = False
    fullscreen: bool = False
    display: int = field(default=0, metadata=rng(0, 16))
    size: str = "1280x720"
    model: str = str(DEFAULT_MODEL)
    stats: str = ""
    # 30 leaves a 2-core CPU room for perception and the generator; 60 suits a GPU machine
    fps: float = field(default=30.0, metadata=rng(1, 240, "presented frames per second cap (realtime)"))
    # perception at its own rate: every camera frame would take most of a core on a 2-core machine
    perception_hz: float = field(default=20.0, metadata=rng(1, 240, "most perception runs per second"))
    # realtime perception (MediaPipe) in a child process (engine.perception.process): it never waits
    # for the render thread's interpreter lock, and a crash there restarts the child, not the piece
    perception_process: bool = True
    offline_fps: float = field(default=30.0, metadata=rng(1, 240, "frame rate of offline output"))
    hud: bool = False
    # a styled model's blend: style name → weight 0..1, from `style = "marble"` or a table (see _style);
    # which names exist is the model's to say, checked by the pipeline ({} = every style alike)
    style: dict[str, float] = field(default_factory=dict)
    # the effect chain's resolution as a share of the output's (then a bilinear stretch): 0.5 keeps a
    # 2-core CPU for the generator and perception; 1.0 on a GPU
    render_scale: float = field(default=0.5, metadata=rng(0.1, 1.0, "effect-chain resolution / output"))
    log_level: str = field(default="INFO", metadata=choices("DEBUG", "INFO", "WARNING", "ERROR"))
    # reload edited scene files, shaders and this config file live (engine.watch): for whoever works on
    # the piece; off in a gallery, where a half-saved file must not reach the wall
    watch: bool = False
    # an installation folder written by `python -m calibration` ("" = no calibration): lens, screen,
    # projector warp, zone and the room's ranges, each file optional (docs/calibration.md)
    calibration: str = ""

    def size_px(self) -> tuple[int, int]:
        try:
            w, h = (int(v) for v in self.size.lower().split("x"))
        except ValueError:
            raise ConfigError(f"run.size = '{self.size}' must look like 1280x720") from None
        if not (16 <= w <= 8192 and 16 <= h <= 8192):
            raise ConfigError(f"run.size = '{self.size}' is out of range 16..8192 per side")
        return w, h


@dataclass(frozen=True)
class GeneratorSettings:
    provider: str = field(default="auto", metadata=choices("auto", "tensorrt", "cuda", "cpu"))
    threads: int = field(default=1, metadata=rng(1, 64, "CPU threads for the generator"))
    # the model on a Triton server instead of in this process: triton://HOST:PORT/MODEL (gRPC) or
    # http://HOST:PORT/MODEL ("" = here); the manifest still comes from run.model (docs/scale.md)
    remote: str = ""
    inflight: int = field(default=3, metadata=rng(1, 16, "remote requests in flight at once"))
    timeout_s: float = field(default=2.0, metadata=rng(0.1, 60, "seconds before a remote request fails"))

    def validate(self) -> None:
        if self.remote:
            parse_remote(self.remote)


@dataclass(frozen=True)
class CameraSettings:
    width: int = field(default=640, metadata=rng(64, 4096))
    height: int = field(default=480, metadata=rng(48, 4096))
    fps: float = field(default=30.0, metadata=rng(1, 240))
    stale_after_s: float = field(default=2.0, metadata=rng(0.2, 60, "reopen a camera silent this long"))


@dataclass(frozen=True)
class OscSettings:
    """OSC in (controllers, sound systems) and out (state, feedback); see docs/osc.md."""

    listen: str = "127.0.0.1:9000"  # HOST:PORT for OSC in; "off" disables it
    allow: tuple[str, ...] = ()  # sender IPs/networks besides loopback ("192.168.1.0/24", "*")
    in_rate: float = field(default=2000.0, metadata=rng(1, 1e6, "packets per second per sender"))
    out: tuple[str, ...] = ()  # HOST:PORT sound-system targets: viewer, events, latent, engine
    feedback: tuple[str, ...] = ()  # HOST:PORT controller targets: params (echo), events
    rate: float = field(default=30.0, metadata=rng(1, 240, "per-frame messages per second per target"))
    bundles: bool = True  # per-frame state as timed bundles (false: plain messages, e.g. for Pd)
    send_landmarks: bool = False  # raw pose landmarks (/viewer/skeleton) leave the process only if true
    pcs: int = field(default=8, metadata=rng(0, 64, "PCA coordinates in /latent/pc"))
    presets: str = ""  # preset folder ("" = ~/.local/share/latent-mirror/presets)
    query_port: int = field(default=0, metadata=rng(0, 65535, "OSCQuery HTTP port (0 = off)"))
    targets: tuple[OscTargetSettings, ...] = ()  # [[osc.targets]]: address, groups, rate, bundles
    map: tuple[OscMapping, ...] = ()  # [[osc.map]]: user mappings of incoming addresses

    def validate(self) -> None:
        listen = parse_listen(self.listen, "OSC listen address")
        for entry in self.allow:
            parse_network(entry)
        if listen and not is_loopback_host(listen[0]) and not self.allow:
            raise ValueError(
                f"listen = '{self.listen}' reaches beyond this machine: list the controllers' addresses "
                'in osc.allow (e.g. ["192.168.1.0/24"], or ["*"] for anyone)'
            )
        for t in (*self.out, *self.feedback):
            parse_target(t)

    def all_targets(self) -> tuple[OscTargetSettings, ...]:
        simple = [OscTargetSettings(t, SOUND_GROUPS, self.rate, self.bundles) for t in self.out]
        simple += [OscTargetSettings(t, CONTROLLER_GROUPS, self.rate, self.bundles) for t in self.feedback]
        return (*simple, *self.targets)


@dataclass(frozen=True)
class Config:
    run: RunSettings = field(default_factory=RunSettings)
    generator: GeneratorSettings = field(default_factory=GeneratorSettings)
    camera: CameraSettings = field(default_factory=CameraSettings)
    latent: LatentSettings = field(default_factory=LatentSettings)
    perception: PerceptionSettings = field(default_factory=PerceptionSettings)
    crowd: CrowdSettings = field(default_factory=CrowdSettings)
    osc: OscSettings = field(default_factory=OscSettings)
    midi: MidiSettings = field(default_factory=MidiSettings)
    link: LinkSettings = field(default_factory=LinkSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    watchdog: WatchdogSettings = field(default_factory=WatchdogSettings)
    log: LogSettings = field(default_factory=LogSettings)
    scenes: ScenesSettings = field(default_factory=ScenesSettings)
    show: ShowSettings = field(default_factory=ShowSettings)
    params: dict[str, float] = field(default_factory=dict)  # scene/engine parameters by dotted name
    room: Room = field(default_factory=Room)  # [run] calibration's files, loaded and validated


def _build_section(cls: type, data: dict, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"[{prefix}] must be a table")
    hints = field_types(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"unknown key '{prefix}.{key}' (known: {', '.join(fields)})")
        kwargs[key] = check_value(f"{prefix}.{key}", value, hints[key], fields[key].metadata)
    for f in fields.values():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in kwargs:
            raise ConfigError(f"{prefix}.{f.name} is required")
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if callable(validate):
        try:
            validate()
        except ValueError as e:  # a message that names its key already is not prefixed twice
            raise ConfigError(str(e) if str(e).startswith(f"{prefix}.") else f"{prefix}: {e}") from None
    return obj


def build_config(data: dict) -> Config:
    known = {f.name for f in dataclasses.fields(Config)} - {"room"}  # the room comes from [run] calibration
    if "style" in data:
        raise ConfigError("style belongs in [run], next to scene: [run] style = 'marble'")
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown section '{key}' (known: {', '.join(sorted(known))})")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ConfigError("[params] must be a table of dotted names")
    flat: dict[str, float] = {}
    _flatten(params, "", flat)
    run = data.get("run", {})
    if isinstance(run, dict) and "style" in run:  # a name or a table, made a table before the section
        run = {**run, "style": _style(run["style"])}
    cfg = Config(
        run=_build_section(RunSettings, run, "run"),
        generator=_build_section(GeneratorSettings, data.get("generator", {}), "generator"),
        camera=_build_section(CameraSettings, data.get("camera", {}), "camera"),
        latent=_build_section(LatentSettings, data.get("latent", {}), "latent"),
        perception=_build_section(PerceptionSettings, data.get("perception", {}), "perception"),
        crowd=_build_section(CrowdSettings, data.get("crowd", {}), "crowd"),
        osc=_build_osc(data.get("osc", {})),
        midi=_build_midi(data.get("midi", {})),
        link=_build_section(LinkSettings, data.get("link", {}), "link"),
        http=_build_section(HttpSettings, data.get("http", {}), "http"),
        schedule=_build_section(ScheduleSettings, data.get("schedule", {}), "schedule"),
        watchdog=_build_section(WatchdogSettings, data.get("watchdog", {}), "watchdog"),
        log=_build_section(LogSettings, data.get("log", {}), "log"),
        scenes=_build_section(ScenesSettings, data.get("scenes", {}), "scenes"),
        show=_build_show(data.get("show", {})),
        params=flat,
    )
    cfg.run.size_px()
    try:
        room = load_room(cfg.run.calibration)
    except CalibrationError as e:
        raise ConfigError(f"run.calibration: {e}") from None
    return dataclasses.replace(cfg, room=room)


def _build_osc(data: dict) -> OscSettings:
    """[osc] plus its arrays of tables [[osc.targets]] and [[osc.map]]."""
    if not isinstance(data, dict):
        raise ConfigError("[osc] must be a table")
    data = dict(data)
    tables = {}
    for key, cls in (("targets", OscTargetSettings), ("map", OscMapping)):
        items = data.pop(key, [])
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise ConfigError(f"osc.{key} must be an array of tables ([[osc.{key}]])")
        tables[key] = tuple(_build_section(cls, item, f"osc.{key}[{i}]") for i, item in enumerate(items))
    return dataclasses.replace(_build_section(OscSettings, data, "osc"), **tables)


def _build_midi(data: dict) -> MidiSettings:
    """[midi] with its ports `in` and `out` (Python's `in` is a keyword: the fields are inputs/outputs)
    and its array of tables [[midi.map]]."""
    if not isinstance(data, dict):
        raise ConfigError("[midi] must be a table")
    data = dict(data)
    known = ["in", "out", *[f.name for f in dataclasses.fields(MidiSettings)][2:]]
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown key 'midi.{key}' (known: {', '.join(known)})")
    for field_name, key in (("inputs", "in"), ("outputs", "out")):
        if key in data:
            data[field_name] = check_value(f"midi.{key}", data.pop(key), tuple[str, ...], {})
    maps = midi_maps(data.pop("map", []), "midi.map")
    return dataclasses.replace(_build_section(MidiSettings, data, "midi"), map=maps)


def midi_maps(items: object, key: str) -> tuple[MidiMapping, ...]:
    """An array of tables of MIDI mappings, each checked like any section: the config's [[midi.map]]
    and MIDI learn's file (engine.control.midi) go through this one check."""
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ConfigError(f"{key} must be an array of tables ([[{key}]])")
    return tuple(_build_section(MidiMapping, item, f"{key}[{i}]") for i, item in enumerate(items))


def _build_show(data: dict) -> ShowSettings:
    """[show] with its playlist, an array of tables [[show.entries]] (scene, duration_s, preset)."""
    if not isinstance(data, dict):
        raise ConfigError("[show] must be a table")
    data = dict(data)
    items = data.pop("entries", [])
    if not isinstance(items, list):
        raise ConfigError("show.entries must be an array of tables ([[show.entries]])")
    entries = tuple(_build_section(ShowEntry, item, f"show.entries[{i}]") for i, item in enumerate(items))
    return dataclasses.replace(_build_section(ShowSettings, data, "show"), entries=entries)


def _style(value: object) -> dict[str, float]:
    """`style = "marble"` (that style alone) or `style = {marble = 0.5, glass = 0.5}` (a blend).

    Which names exist is the model's to say: the pipeline checks them once the manifest is read."""
    if isinstance(value, str):
        value = {value: 1.0} if value else {}
    if not isinstance(value, dict):
        raise ConfigError(f"run.style = {value!r} must be a style name or a table of weights 0..1")
    out = {}
    for name, w in value.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0.0 <= w <= 1.0:
            raise ConfigError(f"run.style.{name} = {w!r} must be a weight 0..1")
        out[str(name)] = float(w)
    return out


def _flatten(d: dict, prefix: str, out: dict[str, float]) -> None:
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            _flatten(v, name + ".", out)
        elif isinstance(v, bool | int | float):
            out[name] = float(v)
        else:
            raise ConfigError(f"params.{name} = {v!r} must be a number or true/false")


def load_config(path: str | Path | None, overrides: dict[str, dict] | None = None) -> Config:
    """TOML file (optional) merged with overrides {section: {key: value}} from the command line."""
    data: dict = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} not found")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: invalid TOML: {e}") from None
    for section, values in (overrides or {}).items():
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            raise ConfigError(f"[{section}] must be a table")
        data[section].update(values)
    try:
        return build_config(data)
    except ConfigError as e:
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}{e}") from None
