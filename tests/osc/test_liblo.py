"""Interop with liblo (Debian liblo-tools), an OSC implementation nobody here wrote.

`oscsend` drives the running engine; `oscdump` receives what it sends: timed
bundles of viewer features, parameter echoes, events and the ping's pong.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from .conftest import RunningApp, engine_config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("oscsend") and shutil.which("oscdump")),
        reason="liblo's oscsend/oscdump not installed (Debian: apt-get install liblo-tools)",
    ),
]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_oscsend_drives_the_engine_and_oscdump_hears_it(tmp_path) -> None:
    port = free_udp_port()
    dump = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)  # let oscdump bind
    target = {"address": f"127.0.0.1:{port}", "groups": ["viewer", "events", "params"], "rate": 10}
    running = RunningApp(engine_config(tmp_path, offline=False, frames=0, targets=[target]))
    try:
        host, osc_port = running.osc_address

        def oscsend(*args: str) -> None:
            subprocess.run(["oscsend", host, str(osc_port), *args], check=True, timeout=10)

        oscsend("/param/mirror.gain", "f", "2.5")
        oscsend("/param/motion.dir.0", "i", "2")
        oscsend("/scene/select", "s", "mirror")
        oscsend("/engine/ping", "i", str(port))
        oscsend("/param/mirror.gain", "s", "loud")  # wrong type: ignored, logged once
        params = running.app.pipeline.params
        end = time.monotonic() + 10
        while params.get("motion.dir.0") != 2.0 and time.monotonic() < end:
            time.sleep(0.02)
        assert params.get("mirror.gain") == 2.5 and params.get("motion.dir.0") == 2.0
        time.sleep(1.0)  # a few more frames for oscdump
    finally:
        running.close()
        dump.terminate()
        out, _ = dump.communicate(timeout=10)
    lines = out.splitlines()
    print(f"oscdump received {len(lines)} messages, e.g.:", *lines[:3], sep="\n  ")

    def has(prefix: str) -> bool:
        # oscdump prints "<timetag> <address> <types> <values>"
        return any(line.split(" ", 1)[1].startswith(prefix) for line in lines if " " in line)

    assert has("/param/mirror.gain f 2.500000") and has("/param/motion.dir.0 f 2.000000")
    assert has('/scene/changed s "mirror"') and has("/engine/pong")
    assert has("/viewer/presence f") and has("/viewer/smile f")
    stamps = {line.split(" ", 1)[0] for line in lines if line.split(" ", 1)[1].startswith("/viewer/")}
    assert all("." in s for s in stamps) and len(stamps) >= 3  # timetags of several per-frame bundles
