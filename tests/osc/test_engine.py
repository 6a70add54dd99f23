"""The running engine over real UDP: OSC changes the rendered picture, echoes, pongs, bundles out."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from engine.app import App
from engine.pipeline import Step

from .conftest import Receiver, RunningApp, engine_config

pytestmark = pytest.mark.slow


def test_osc_drives_an_offline_run(tmp_path) -> None:
    controller, sound = Receiver(), Receiver()
    cfg = engine_config(tmp_path, offline=True, frames=24, feedback=[controller.address], out=[sound.address])
    app = App(cfg)
    brightness: list[float] = []
    # frame index → what a controller sends after that frame was presented (python-osc as the peer)
    script = {
        2: [("/param/mirror.gain", 2.0), ("/preset/save", "look1")],
        5: [("/param/mirror.gain", 0.5)],
        8: [("/preset/load", "look1")],
        11: [("/engine/blackout", 1)],
    }

    def on_frame(rgb: np.ndarray, step: Step) -> None:
        i = len(brightness)
        brightness.append(float(rgb.mean()))
        if i in script:
            server = app.pipeline.osc.server
            before = server.stats["messages"]
            client = SimpleUDPClient(*server.address)
            for address, value in script[i]:
                client.send_message(address, value)
            end = time.monotonic() + 3  # offline does not wait: make sure the next frame sees them
            while server.stats["messages"] < before + len(script[i]) and time.monotonic() < end:
                time.sleep(0.002)

    app.on_frame = on_frame
    assert app.run() == 0
    assert len(brightness) == 24
    print("mean brightness per frame:", " ".join(f"{b:.0f}" for b in brightness))
    assert min(brightness[:12]) > 10 and max(brightness[13:]) < 1.0  # blackout from frame 12 on
    params = app.pipeline.params
    assert params.get("mirror.gain") == 2.0 and params.get("engine.blackout") == 1.0
    saved = json.loads((tmp_path / "presets" / "look1.json").read_text())
    assert saved["scene"] == "mirror" and saved["params"]["mirror.gain"] == 2.0

    echoes = controller.collect(lambda m: ("/param/engine.blackout", [1.0]) in m, 5)
    gains = [p[0] for a, p in echoes if a == "/param/mirror.gain"]
    assert gains == [1.0, 2.0, 0.5, 2.0]  # start-up dump, set, set, preset load: every change echoed
    assert ("/scene/changed", ["mirror"]) in echoes and ("/preset/loaded", ["look1"]) in echoes
    assert not any(a.startswith("/viewer/") and a != "/viewer/enter" for a, _ in echoes)

    # until ten frames' presence arrived: each frame's bundle grows with the features (count, viewer_id…)
    state = sound.collect(lambda m: sum(a == "/viewer/presence" for a, _ in m) >= 10, 5)
    assert sound.packets[0].startswith(b"#bundle") and "/param/mirror.gain" not in sound.addresses()
    presence = [p[0] for a, p in state if a == "/viewer/presence"]
    assert len(presence) >= 10 and max(presence) == 1.0  # the demo viewer, frame after frame
    pcs = [p for a, p in state if a == "/latent/pc"]
    assert all(len(p) == 8 for p in pcs) and len({tuple(p) for p in pcs}) > 5  # the latent moves
    assert {"/viewer/smile", "/viewer/head_yaw", "/latent/speed", "/engine/fps"} <= sound.addresses()
    assert "/viewer/skeleton" not in sound.addresses()  # raw landmarks stay in the process
    controller.close()
    sound.close()


def test_ping_pong_and_sync_while_running_realtime(tmp_path) -> None:
    events = Receiver()
    running = RunningApp(engine_config(tmp_path, offline=False, frames=0, feedback=[events.address]))
    try:
        client = SimpleUDPClient(*running.osc_address)
        client.send_message("/engine/ping", events.port)
        for _ in range(4):
            client.send_message("/sync/bpm", 120.0)
            client.send_message("/audio/level", 0.8)
        assert ("/engine/pong", []) in events.collect(lambda m: ("/engine/pong", []) in m, 5)
        pipeline = running.app.pipeline
        end = time.monotonic() + 5
        while pipeline.sync.snapshot(0.0)["bpm"] != 120.0 and time.monotonic() < end:
            time.sleep(0.01)
        assert pipeline.sync.bpm() == 120.0 and pipeline.sync.level_value == pytest.approx(0.8)
    finally:
        running.close()
        events.close()
