"""Feedback echo with a peer that sends back everything it hears: the exchange settles, no loop.

Echo goes to every controller target, the sender included (TouchOSC and
Resolume expect the confirmed, clamped value back). That is safe because the
registry only notifies real changes and the echo is coalesced per frame: a
peer that reflects every /param message ends the exchange within two frames,
even though its float32 copy of a value differs from the engine's float64.
"""

from __future__ import annotations

import socket
import time

from engine.control.commands import CommandQueue
from engine.control.osc.inbound import OscServer
from engine.control.osc.sender import CONTROLLER_GROUPS, FrameState, OscOut, OscTargetSettings
from engine.control.osc.wire import decode, encode_message
from engine.params import ParamRegistry, ParamSpec


def test_a_reflecting_peer_does_not_start_a_loop() -> None:
    reg = ParamRegistry([ParamSpec("mirror.gain", 0.1, 0.0, 3.0, "g"), ParamSpec("fx.x", 0.1, -1, 1, "x")])
    queue = CommandQueue()
    server = OscServer(("127.0.0.1", 0), reg, queue, time.monotonic)
    server.start()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(0.05)
    out = OscOut([OscTargetSettings(f"127.0.0.1:{peer.getsockname()[1]}", CONTROLLER_GROUPS)], reg)
    state = FrameState({}, 0.0, [], 30.0)
    out.refresh()  # start-up: every value once
    peer.sendto(encode_message("/param/mirror.gain", (7.0,)), server.address)  # out of range: clamped
    echoed_per_frame = []
    try:
        for _ in range(8):  # frames
            time.sleep(0.03)
            for cmd in queue.drain(time.monotonic()):
                reg.set(*cmd.args, origin="osc")
            out.publish(state, time.monotonic())
            n = 0
            while True:  # the peer reflects every /param message it hears
                try:
                    data, _ = peer.recvfrom(65536)
                except TimeoutError:
                    break
                for m in decode(data):
                    if m.address.startswith("/param/"):
                        n += 1
                        peer.sendto(encode_message(m.address, m.args), server.address)
            echoed_per_frame.append(n)
    finally:
        server.close()
        out.close()
        peer.close()
    print("echoes per frame:", echoed_per_frame)
    assert sum(echoed_per_frame[4:]) == 0, echoed_per_frame  # settled
    assert reg.get("mirror.gain") == 3.0  # clamped, confirmed to the peer, and no further
    assert abs(reg.get("fx.x") - 0.1) < 1e-7  # its float32 copy came back once, changed nothing visible
