"""MIDI through real ports: a JACK server (dummy driver) started here, a controller played by mido in
this process on its own JACK client, the engine's MidiIO on its own: CC and notes to commands,
learn and its file, feedback, unplug and replug, and the CC → parameter latency."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import re
import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import engine_params
from engine.config import ConfigError, load_config
from engine.control.commands import Command, CommandQueue
from engine.control.midi_map import MidiMapping, MidiSettings
from engine.control.osc.dispatch import OscDispatcher
from engine.control.osc.safety import LogThrottle
from engine.control.osc.wire import OscMessage
from engine.params import ParamRegistry
from engine.scene import scene_class, scene_names
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]

rtmidi = pytest.importorskip("rtmidi")
mido = pytest.importorskip("mido")


_wait = wait_until


def _die_with_parent() -> None:
    """In the child before exec: a test run killed from outside (a timeout) leaves no jackd behind."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="module")
def jack() -> Iterator[str]:
    """A JACK server of this test's own (unique name: parallel runs never share one), killed after."""
    if shutil.which("jackd") is None:
        pytest.skip("jackd not installed (apt-get install jackd2; ./test installs it)")
    if rtmidi.API_UNIX_JACK not in rtmidi.get_compiled_api():
        pytest.skip("this python-rtmidi was built without JACK")
    # mediapipe imports sounddevice, whose PortAudio joins any JACK server running when it initialises
    # and aborts the whole process at exit (pa_jack.c Terminate) once that server is gone. Initialise
    # it now, before ours exists, so the engine tests below never tie PortAudio to it.
    with contextlib.suppress(ImportError, OSError):
        import sounddevice  # noqa: F401
    name = f"lm-midi-test-{os.getpid()}"
    saved = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ["JACK_DEFAULT_SERVER"], os.environ["JACK_NO_START_SERVER"] = name, "1"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"}
    cmd = ["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent
    )
    try:
        end = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.skip(f"jackd could not start: {proc.stderr.read().decode()[-300:]}")
            try:
                probe = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "probe")
                probe.get_ports()
                probe.delete()
                break
            except rtmidi.SystemError:
                if time.monotonic() > end:
                    pytest.skip("jackd did not answer within 10 s")
                time.sleep(0.1)
        yield name
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _registry() -> ParamRegistry:
    reg = ParamRegistry()
    engine_params.declare(reg, 1)
    for name in scene_names():
        for spec in scene_class(name).params:
            reg.declare(spec)
    return reg


class Rig:
    """The engine side (registry, queue, MidiIO) and a controller on JACK client 'peer'."""

    def __init__(self, tmp: Path, maps: tuple[MidiMapping, ...] = (), **kw) -> None:
        from engine.control.midi import MidiIO

        self.backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
        self.ctl = self.backend.open_output("ctl", virtual=True, client_name="peer")
        self.fb = self.backend.open_input("fb", virtual=True, client_name="peer")
        self.reg = _registry()
        self.q = CommandQueue()
        kw.setdefault("inputs", ("peer:ctl",))
        s = MidiSettings(
            api="jack",
            poll_s=0.05,
            reconnect_max_s=0.2,
            learned=str(tmp / "midi.toml"),
            map=maps,
            **kw,
        )
        self.io = MidiIO(s, self.reg, self.q, time.monotonic, scene_names())
        self.io.start()
        try:  # the feedback port pairs with ctl: JACK named its client peer-01, the same controller
            _wait(lambda: self.io.status()["outputs"] == ["peer-01:fb"], what="ports connected")
        except AssertionError:
            self.close()
            raise
        time.sleep(0.05)
        self.drain_fb()  # the values sent on connect (faders to where things are)

    def cc(self, number: int, value: int, channel: int = 1) -> None:
        self.ctl.send(mido.Message("control_change", channel=channel - 1, control=number, value=value))

    def commands(self, n: int = 1, timeout: float = 3.0, poll: float = 0.005) -> list[Command]:
        got: list[Command] = []
        done = lambda: got.extend(self.q.drain(time.monotonic())) or len(got) >= n  # noqa: E731
        _wait(done, timeout, f"{n} commands", poll)
        return got

    def apply(self, cmd: Command) -> None:
        """What the render thread does with the commands MIDI puts on the queue (engine.pipeline)."""
        if cmd.kind == "param":
            self.reg.set(cmd.args[0], cmd.args[1], origin=cmd.origin)
        elif cmd.kind == "midi_learn":
            self.io.learn(cmd.args[0])

    def drain_fb(self) -> list:
        return list(self.fb.iter_pending())

    def close(self) -> None:
        self.io.close()
        self.ctl.close()
        self.fb.close()


@pytest.fixture()
def rig(jack: str, tmp_path: Path) -> Iterator[Rig]:
    maps = (
        MidiMapping(cc=7, channel=1, param="mirror.gain"),
        MidiMapping(cc=20, to="/latent/jump"),
        MidiMapping(note=60, scene="pulse"),
    )
    r = Rig(tmp_path, maps)
    yield r
    r.close()


def test_cc_and_notes_become_commands(rig: Rig) -> None:
    rig.cc(7, 127)
    (cmd,) = rig.commands()
    assert (cmd.kind, cmd.args, cmd.origin) == ("param", ("mirror.gain", 3.0), "midi:peer:ctl")
    rig.apply(cmd)
    assert rig.reg.get("mirror.gain") == 3.0
    rig.cc(20, 127)
    rig.cc(20, 127)  # held: one jump on the press
    rig.cc(20, 0)
    rig.cc(20, 127)
    rig.ctl.send(mido.Message("note_on", note=60, velocity=40))
    cmds = rig.commands(3)
    assert [(c.kind, c.args) for c in cmds] == [("jump", ()), ("jump", ()), ("scene", ("pulse",))]
    rig.cc(99, 5)  # unmapped: counted, nothing queued
    _wait(lambda: rig.io.stats["unmapped"] >= 1, what="unmapped counted")
    assert len(rig.q) == 0


def test_learn_binds_saves_and_reloads(rig: Rig, tmp_path: Path) -> None:
    # /midi/learn over OSC: checked by the dispatcher, a command on the same queue
    osc = OscDispatcher(
        rig.reg,
        rig.q,
        send=lambda d, a: None,
        stats=dict.fromkeys(("unknown", "bad_args", "full"), 0),
        warn=LogThrottle(logging.getLogger("t")),
        scenes=scene_names(),
    )
    osc.dispatch(OscMessage("/midi/learn", ("fx.hue_shift",)), ("127.0.0.1", 1), 0.0)
    osc.dispatch(OscMessage("/midi/learn", ("no.such",)), ("127.0.0.1", 1), 0.0)  # refused there
    (cmd,) = rig.q.drain(time.monotonic())
    assert (cmd.kind, cmd.args) == ("midi_learn", ("fx.hue_shift",))
    rig.apply(cmd)
    rig.cc(21, 127, channel=3)  # the next control moved is bound, and drives the parameter at once
    (cmd,) = rig.commands()
    assert cmd.args == ("fx.hue_shift", 1.0)
    path = tmp_path / "midi.toml"
    text = _wait(lambda: path.is_file() and path.read_text(), what="learn file written")
    assert 'param = "fx.hue_shift"' in text and "cc = 21" in text and "channel = 3" in text
    rig.cc(21, 0, channel=3)
    assert rig.commands()[0].args == ("fx.hue_shift", -1.0)
    rig.close()
    again = Rig(tmp_path, rig.io.s.map)  # a restart: the learned binding is back
    try:
        again.cc(21, 0, channel=3)
        assert again.commands()[0].args == ("fx.hue_shift", -1.0)
    finally:
        again.close()


def test_feedback_goes_out_when_another_surface_changes_a_parameter(rig: Rig) -> None:
    rig.reg.set("mirror.gain", 1.5, origin="osc")
    msg = _wait(lambda: rig.drain_fb(), what="feedback CC")
    assert [(m.type, m.control, m.value) for m in msg] == [("control_change", 7, 64)]  # 1.5 of 0..3
    rig.reg.set("mirror.gain", 0.0, origin="midi:peer:ctl")  # the controller's own move: not echoed
    rig.reg.set("fx.contrast", 2.0, origin="osc")  # not mapped: nothing
    time.sleep(0.2)
    assert rig.drain_fb() == []


def test_unplugged_controller_comes_back(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="engine.control.midi")
    rig.ctl.close()  # unplugged
    _wait(lambda: rig.io.status()["inputs"] == [], what="port gone")
    time.sleep(0.5)  # several polls while it is gone: still one line
    rig.ctl = rig.backend.open_output("ctl", virtual=True, client_name="peer")  # plugged back in
    _wait(lambda: rig.io.status()["inputs"] == ["peer:ctl"], what="port back")
    rig.cc(7, 0)
    assert rig.commands()[0].args == ("mirror.gain", 0.0)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("no port matching 'peer:ctl'" in m for m in lines) == 1, lines
    assert sum("listening to peer:ctl" in m for m in lines) == 1, lines


def test_all_ports_but_its_own(jack: str, tmp_path: Path) -> None:
    r = Rig(tmp_path, (MidiMapping(cc=7, param="mirror.gain"),), inputs=("all",))
    try:  # its own feedback port (readable in JACK) is not taken for a controller
        assert r.io.status()["inputs"] == ["peer:ctl"]
        r.cc(7, 0)
        assert r.commands()[0].args == ("mirror.gain", 0.0)
    finally:
        r.close()


def test_cc_to_parameter_latency_through_jack(rig: Rig) -> None:
    """Send → the command on the queue → the registry, as the render thread would apply it.

    JACK's dummy driver without realtime scheduling, on a busy 2-core machine, now and then skips
    a late client's cycle, and that cycle's MIDI is gone (a real-time JACK does not): such a loss
    is counted and said, and must stay rare."""
    lat, lost = [], 0
    for i in range(200):
        value = 1 + i % 127
        t0 = time.perf_counter()
        rig.cc(7, value)
        try:
            cmds = rig.commands(timeout=0.5, poll=0.0001)  # a fine poll: its step is not measured
        except AssertionError:
            lost += 1
            continue
        for c in cmds:
            rig.apply(c)
        lat.append(time.perf_counter() - t0)
        assert rig.reg.get("mirror.gain") == pytest.approx(value / 127 * 3.0)
    lat.sort()
    med, p95 = statistics.median(lat) * 1e3, lat[int(0.95 * len(lat))] * 1e3
    print(
        f"\nMIDI CC → parameter through JACK (dummy driver, 128 frames at 48 kHz = 2.7 ms a cycle): "
        f"median {med:.2f} ms, p95 {p95:.2f} ms, max {lat[-1] * 1e3:.2f} ms, lost {lost} of 200"
    )
    assert med < 20.0
    assert lost <= 10


def test_config_section(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[midi]\nin = ["nanoKONTROL"]\n[[midi.map]]\ncc = 7\nparam = "mirror.gain"\ncurve = "smooth"\n'
    )
    c = load_config(cfg)
    assert c.midi.inputs == ("nanoKONTROL",) and c.midi.map[0].curve == "smooth"
    for body, says in (
        ('[midi]\ninputs = ["x"]', "midi.inputs"),
        ("[midi]\nin = 3", "midi.in = 3"),
        ("[midi]\nfeedback_rate = 0", "midi.feedback_rate"),
        ('[[midi.map]]\ncc = 7\nnote = 3\nparam = "a"', "midi.map[0]"),
        ('[[midi.map]]\ncc = 200\nparam = "a"', "midi.map[0].cc"),
        ('[[midi.map]]\ncc = 1\nto = "/engine/ping"', "midi.map[0]"),
    ):
        cfg.write_text(body)
        with pytest.raises(ConfigError, match=r"\b" + says.replace("[", r"\[").replace("]", r"\]")):
            load_config(cfg)


def test_docs_example_loads(tmp_path: Path) -> None:
    block = re.findall(r"```toml\n(.*?)```", (ROOT / "docs" / "midi.md").read_text(), re.S)[0]
    (tmp_path / "c.toml").write_text(block)
    assert load_config(tmp_path / "c.toml").midi.map[0].param == "mirror.gain"


def test_learned_file_problems(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from engine.control.midi import MidiIO

    path = tmp_path / "midi.toml"
    s = MidiSettings(inputs=("x",), api="jack", learned=str(path))
    path.write_text('[[map]]\ncc = 1\nparam = "gone.param"\n[[map]]\ncc = 2\nparam = "mirror.gain"\n')
    io = MidiIO(s, _registry(), CommandQueue(), time.monotonic, scene_names())  # another model's: left out
    assert [m.param for m in io.learned] == ["mirror.gain"] and "gone.param" in caplog.text
    path.write_text("[[map]]\ncc = 1\nparam = ")
    with pytest.raises(ConfigError, match=r"midi.learned .*midi.toml: "):
        MidiIO(s, _registry(), CommandQueue(), time.monotonic, scene_names())
    path.write_text("[[map]]\ncc = 300\nparam = 'mirror.gain'\n")
    with pytest.raises(ConfigError, match=r"map\[0\]\.cc = 300 is out of range"):
        MidiIO(s, _registry(), CommandQueue(), time.monotonic, scene_names())
    bad = MidiSettings(
        inputs=("x",), api="jack", learned=str(tmp_path / "no.toml"), map=(MidiMapping(cc=1, scene="nope"),)
    )
    with pytest.raises(ValueError, match=r"midi.map\[0\].*no scene named 'nope'"):
        MidiIO(bad, _registry(), CommandQueue(), time.monotonic, scene_names())


def test_no_midi_system_runs_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No JACK server: the engine says so once and keeps looking, it never starts one."""
    from engine.control.midi import MidiIO

    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"lm-none-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    s = MidiSettings(inputs=("x",), api="jack", poll_s=0.05, reconnect_max_s=0.1, learned=str(tmp_path / "m"))
    io = MidiIO(s, _registry(), CommandQueue(), time.monotonic, scene_names())
    io.start()
    time.sleep(0.5)
    io.close()
    assert io.status()["inputs"] == []
    assert caplog.text.count("no MIDI system") == 1


def test_command_line_ports() -> None:
    from run_installation import overrides, parse_args

    o = overrides(parse_args(["--midi-in", "nano", "--midi-in", "Launch", "--midi-out", "nano"]))
    assert o["midi"] == {"in": ["nano", "Launch"], "out": ["nano"]}


def test_a_controller_drives_the_running_engine(jack: str, tmp_path: Path) -> None:
    """The whole path in the real offline loop: [midi] in the config, the pipeline opens the port, a
    fader on a real JACK port moves a scene parameter, and /midi/learn reaches the learner."""
    from engine.app import App

    backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
    ctl = backend.open_output("ctl", virtual=True, client_name="rig")
    midi = {
        "in": ["rig:ctl"],
        "api": "jack",
        "learned": str(tmp_path / "midi.toml"),
        "poll_s": 0.05,
        "map": [{"cc": 7, "channel": 1, "param": "mirror.gain"}],
    }
    run = {"source": "demo", "headless": True, "offline": True, "frames": 8, "size": "160x90"}
    app = App(load_config(None, {"run": run, "osc": {"listen": "off"}, "midi": midi}))
    gains: list[float] = []
    learning: list[str] = []

    def on_frame(rgb, step) -> None:
        p = app.pipeline
        if len(gains) == 1:
            _wait(lambda: p.midi.status()["inputs"] == ["rig:ctl"], what="the engine opened the port")
            ctl.send(mido.Message("control_change", channel=0, control=7, value=0))
            _wait(lambda: len(p.commands) > 0, what="the CC queued")
        if len(gains) == 3:
            p.commands.put("midi_learn", ("fx.hue_shift",), p.clock(), origin="test")
        learning.append(p.midi.status()["learning"])
        gains.append(p.params.get("mirror.gain"))

    app.on_frame = on_frame
    try:
        assert app.run() == 0
    finally:
        ctl.close()
    assert gains[0] == 1.0 and gains[2] == 0.0  # the fader at 0: mirror.gain's low end, the next frame
    assert learning[3] == "" and learning[5] == "fx.hue_shift"
