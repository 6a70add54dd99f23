"""/engine/status over real UDP on loopback: the status dict as JSON, bounded to one packet."""

from __future__ import annotations

import json
import socket
import time

import pytest
from pythonosc.osc_message import OscMessage

from engine.config import OscSettings
from engine.control.commands import CommandQueue
from engine.control.osc.dispatch import STATUS_MAX_BYTES
from engine.control.osc.inbound import OscServer
from engine.control.osc.surface import OscIO
from engine.control.osc.wire import encode_message
from engine.params import ParamRegistry, ParamSpec

from .conftest import Receiver
from .test_server import send


def status_doc(presented: int = 120) -> dict:
    return {
        "ok": True,
        "uptime_s": 12.5,
        "fps": 29.9,
        "presented": presented,
        "latency_ms": {"p50": 150.0, "p95": 190.0},
        "stages": {
            s: {"age_s": 0.02, "ms_p50": 18.0, "hz": 30.0} for s in ("perception", "generator", "render")
        },
        "camera": {"source": "0", "live": False, "status": "camera:0 not found; retrying in 4 s"},
        "errors": {"perception": 0, "generator": 1, "render": 0, "recording": 0},
        "watchdog": {"faults": {}, "steps": {"reset_latent": 0, "exit": 0}, "last": ""},
    }


@pytest.fixture
def osc_io():
    """The OscIO the engine builds, listening on a free loopback port, with a status that moves."""
    calls = []

    def status() -> dict:
        calls.append(time.monotonic())
        return status_doc(presented=100 + len(calls))

    reg = ParamRegistry([ParamSpec("mirror.gain", 1.0, 0.0, 3.0, "gain")])
    io = OscIO(OscSettings(listen="127.0.0.1:0"), reg, CommandQueue(), time.monotonic, ["mirror"])
    io.status = status  # as the app sets it, after construction and before start()
    io.start()
    yield io
    io.close()


def ask(sock: socket.socket, address: tuple[str, int], *args: int) -> list:
    sock.sendto(encode_message("/engine/status", args), address)
    sock.settimeout(3)
    data, source = sock.recvfrom(65536)
    assert source[1] == address[1]  # answered from the listening socket, like /engine/pong
    msg = OscMessage(data)  # an independent parser
    assert msg.address == "/engine/status" and len(data) <= STATUS_MAX_BYTES + 32
    return msg.params


def test_status_is_answered_to_the_sender(osc_io: OscIO, sender: socket.socket) -> None:
    address = osc_io.listen_address
    assert address is not None
    (text,) = ask(sender, address)
    first = json.loads(text)
    assert first == status_doc(101)
    (text,) = ask(sender, address)
    assert json.loads(text)["presented"] == 102  # read per request, never cached


def test_status_to_another_port(osc_io: OscIO, sender: socket.socket) -> None:
    r = Receiver()
    try:
        assert osc_io.listen_address is not None
        sender.sendto(encode_message("/engine/status", (r.port,)), osc_io.listen_address)
        (address, (text,)), *_ = r.collect(lambda m: len(m) >= 1, 3)
        assert address == "/engine/status" and json.loads(text)["ok"] is True
    finally:
        r.close()


def test_a_big_status_is_trimmed_to_one_packet(sender: socket.socket) -> None:
    """A status that outgrew a packet (many fault kinds) drops its biggest fields and says which."""
    doc = status_doc()
    doc["watchdog"]["faults"] = {f"kind_{i}": i for i in range(300)}
    reg = ParamRegistry([])
    io = OscIO(OscSettings(listen="127.0.0.1:0"), reg, CommandQueue(), time.monotonic, [], status=lambda: doc)
    io.start()
    try:
        assert io.listen_address is not None
        (text,) = ask(sender, io.listen_address)
        got = json.loads(text)
        assert len(text.encode()) <= STATUS_MAX_BYTES
        assert got["trimmed"] == ["watchdog"] and got["fps"] == 29.9 and got["ok"] is True
    finally:
        io.close()


def test_a_failing_status_is_an_error_document(sender: socket.socket) -> None:
    def broken() -> str:
        raise RuntimeError("metrics lock poisoned")

    srv = OscServer(("127.0.0.1", 0), ParamRegistry([]), CommandQueue(), time.monotonic, status=broken)
    srv.start()
    try:
        (text,) = ask(sender, srv.address)
        assert json.loads(text) == {"error": "status failed: RuntimeError: metrics lock poisoned"}
        (text,) = ask(sender, srv.address)  # and the server goes on answering
        assert json.loads(text)["error"].startswith("status failed")
    finally:
        srv.close()


def silence(sock: socket.socket, wait: float = 0.5) -> int:
    """How many packets arrive until `wait` seconds pass without one."""
    n = 0
    sock.settimeout(wait)
    try:
        while True:
            sock.recvfrom(65536)
            n += 1
    except TimeoutError:
        return n


def test_no_status_bad_port_and_a_flood(sender: socket.socket) -> None:
    """No status callable says so; a bad port argument is refused; a flood is answered 10 times."""
    srv = OscServer(("127.0.0.1", 0), ParamRegistry([]), CommandQueue(), time.monotonic)
    srv.start()
    try:
        (text,) = ask(sender, srv.address)
        assert json.loads(text) == {"error": "this engine has no status to give"}
        send(sender, srv, encode_message("/engine/status", (0,)))
        assert srv.stats["bad_args"] == 1 and silence(sender) == 0
        time.sleep(1.0)  # the bucket refills
        send(sender, srv, *[encode_message("/engine/status") for _ in range(50)])
        answers = silence(sender)
        assert 10 <= answers <= 12 and srv.stats["rate_limited"] >= 38
    finally:
        srv.close()


@pytest.mark.slow
def test_the_running_engine_answers_its_status(tmp_path, sender: socket.socket) -> None:
    """The real App: /engine/status carries App.status() (needs `pipeline.osc.status = self.status`)."""
    from .conftest import RunningApp, engine_config

    app = RunningApp(engine_config(tmp_path, offline=False, frames=0))
    try:
        (text,) = ask(sender, app.osc_address)
        doc = json.loads(text)
        assert "error" not in doc, doc
        assert doc["camera"]["source"] == "demo" and doc["presented"] >= 5 and doc["fps"] > 0
        assert {"ok", "uptime_s", "stages", "watchdog", "errors", "rss_mb"} <= set(doc)
    finally:
        app.close()
