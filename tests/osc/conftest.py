"""Helpers for OSC tests over real UDP on loopback, decoded by python-osc (an independent parser)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from pythonosc.osc_packet import OscPacket

Msg = tuple[str, list]


class Receiver:
    """A UDP socket on 127.0.0.1:<free port> (or `host`, e.g. ::1) that collects what arrives,
    parsed by python-osc."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.address = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.messages: list[Msg] = []
        self.packets: list[bytes] = []

    def collect(self, until: Callable[[list[Msg]], bool], timeout: float = 5.0) -> list[Msg]:
        """Receive until `until(messages)` holds or `timeout` passes; returns every message so far."""
        end = time.monotonic() + timeout
        while not until(self.messages) and time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, _ = self.sock.recvfrom(65536)
            except TimeoutError:
                break
            self.packets.append(data)
            self.messages += [(m.message.address, m.message.params) for m in OscPacket(data).messages]
        return self.messages

    def addresses(self) -> set[str]:
        return {a for a, _ in self.messages}

    def close(self) -> None:
        self.sock.close()


def ipv6_loopback() -> bool:
    """Whether ::1 can be bound here (a container or kernel without IPv6 has no IPv6 loopback)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sender():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s
    s.close()


def engine_config(tmp_path, offline: bool, frames: int, **osc):
    """A headless demo run at a small size, OSC in on a free loopback port, presets in tmp_path."""
    from engine.config import load_config

    return load_config(
        None,
        {
            "run": {
                "source": "demo",
                "headless": True,
                "offline": offline,
                "frames": frames,
                "size": "320x180",
            },
            "osc": {"listen": "127.0.0.1:0", "presets": str(tmp_path / "presets"), **osc},
        },
    )


class RunningApp:
    """An App running realtime in a background thread until closed (the test thread plays the peers)."""

    def __init__(self, cfg) -> None:
        import threading

        from engine.app import App

        self.app = App(cfg)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="app", daemon=True)
        self.thread.start()
        end = time.monotonic() + 60
        while self.app.presented < 5 and self.thread.is_alive() and time.monotonic() < end:
            time.sleep(0.02)
        assert self.app.presented >= 5, f"the app did not start presenting frames ({self.error!r})"

    def _run(self) -> None:
        try:
            self.app.run()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e

    @property
    def osc_address(self) -> tuple[str, int]:
        address = self.app.pipeline.osc.listen_address
        assert address is not None
        return address

    def close(self) -> None:
        self.app.stop.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the app did not shut down"
        assert self.error is None, repr(self.error)
