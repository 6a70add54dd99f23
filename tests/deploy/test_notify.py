"""SystemdNotifier against a real AF_UNIX datagram socket, as systemd listens on $NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.notify import SystemdNotifier

ROOT = Path(__file__).resolve().parents[2]


class Listener:
    """The manager's end: a bound datagram socket we read without blocking."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.setblocking(False)

    def messages(self, wait: float = 0.0) -> list[str]:
        out: list[str] = []
        deadline = time.monotonic() + wait
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return out
                time.sleep(0.01)


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Listener]:
    if request.param == "path":
        address = str(tmp_path / "notify")
    else:
        address = f"@latent-mirror-test-{uuid.uuid4().hex}"
    lis = Listener(address)
    yield lis
    lis.sock.close()


def test_ready_once_then_throttled_pings(listener: Listener) -> None:
    n = SystemdNotifier(listener.address, watchdog_usec=3_000_000)  # pings every 1 s
    assert n.enabled and n.watchdog and n.interval == pytest.approx(1.0)
    n.frame_presented(100.0)
    assert listener.messages() == ["READY=1\nSTATUS=presenting frames"]
    for t in (100.03, 100.5, 100.99):  # within the first interval: nothing, READY never again
        n.frame_presented(t)
    assert listener.messages() == []
    for t in (101.0, 101.5, 102.0, 102.2, 103.1):
        n.frame_presented(t)
    assert listener.messages() == ["WATCHDOG=1"] * 3


def test_no_socket_is_a_no_op(tmp_path: Path) -> None:
    n = SystemdNotifier.from_env({"WATCHDOG_USEC": "3000000"})
    assert not n.enabled
    n.frame_presented(1.0)
    n.frame_presented(5.0)
    n.stopping()
    assert n._sock is None and not n.ready_sent  # nothing opened, nothing sent


def test_from_env_reads_socket_and_interval(listener: Listener) -> None:
    env = {"NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    n = SystemdNotifier.from_env(env)
    assert n.address == listener.address and n.interval == pytest.approx(10.0)
    n.frame_presented(0.0)
    n.frame_presented(10.0)
    assert listener.messages() == ["READY=1\nSTATUS=presenting frames", "WATCHDOG=1"]


def test_without_watchdog_usec_no_pings(listener: Listener) -> None:
    n = SystemdNotifier.from_env({"NOTIFY_SOCKET": listener.address})
    for i in range(50):
        n.frame_presented(i * 1.0)
    assert listener.messages() == ["READY=1\nSTATUS=presenting frames"]


CHILD = """
import sys
from engine.notify import SystemdNotifier
n = SystemdNotifier.from_env()
for i in range(16):  # READY and 7 pings: fits the kernel's datagram queue (10) unread
    n.frame_presented(i * 0.5)
print(n.watchdog)
"""


@pytest.mark.parametrize("owner", ["parent", "child"])
def test_watchdog_pid_of_another_process_disables_pings(listener: Listener, owner: str) -> None:
    """A subprocess that inherits WATCHDOG_PID meant for its parent must not keep the parent alive."""
    env = dict(os.environ, NOTIFY_SOCKET=listener.address, WATCHDOG_USEC="3000000")
    if owner == "parent":
        env["WATCHDOG_PID"] = str(os.getpid())  # the pings are ours, not the child's
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    got = listener.messages()
    assert got[0] == "READY=1\nSTATUS=presenting frames"
    if owner == "parent":
        assert done.stdout.strip() == "False" and got[1:] == []
    else:  # no WATCHDOG_PID: the pings are for whoever reads the variables
        assert done.stdout.strip() == "True" and got[1:] == ["WATCHDOG=1"] * 7  # 1 s apart over 7.5 s


def test_a_manager_that_stops_reading_never_blocks_the_render_loop(listener: Listener) -> None:
    """The socket queue fills (a hung manager): pings are dropped, frames keep coming."""
    n = SystemdNotifier(listener.address, watchdog_usec=3)  # a ping on every frame
    finished = threading.Event()

    def frames() -> None:
        for i in range(5000):  # far past the kernel's datagram queue (net.unix.max_dgram_qlen)
            n.frame_presented(float(i))
        finished.set()

    threading.Thread(target=frames, daemon=True).start()
    assert finished.wait(10), "frame_presented blocked on a full notify socket"
    assert len(listener.messages()) < 5000  # some really were dropped: the queue did fill


def test_manager_gone_warns_once_and_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    n = SystemdNotifier(str(tmp_path / "nobody-listens"), watchdog_usec=3)
    for i in range(20):
        n.frame_presented(float(i))
    assert not n.ready_sent  # READY is retried, so a manager that appears late still hears it
    warnings = [r for r in caplog.records if "systemd notify" in r.getMessage()]
    assert len(warnings) == 1


def test_reload_asks_for_ready_again(listener: Listener) -> None:
    n = SystemdNotifier(listener.address, watchdog_usec=3_000_000)
    n.frame_presented(0.0)
    n.reloading()
    n.frame_presented(0.1)
    ready, reloading, ready_again = listener.messages()
    assert reloading.startswith("RELOADING=1\nMONOTONIC_USEC=") and ready == ready_again


def test_extend_start_only_before_ready(listener: Listener) -> None:
    n = SystemdNotifier(listener.address, watchdog_usec=3_000_000)
    n.extend_start(90)
    n.frame_presented(0.0)
    n.extend_start(90)
    n.stopping()
    assert listener.messages() == [
        "EXTEND_TIMEOUT_USEC=90000000",
        "READY=1\nSTATUS=presenting frames",
        "STOPPING=1",
    ]
