"""OscIO built from the config over real IPv6 UDP: "[::1]:PORT" in osc.listen and osc.out both work."""

from __future__ import annotations

import socket
import time

from engine.config import load_config
from engine.control.commands import CommandQueue
from engine.control.osc.sender import FrameState
from engine.control.osc.surface import OscIO
from engine.control.osc.wire import decode, encode_message
from engine.params import ParamRegistry, ParamSpec

from .conftest import Receiver, needs_ipv6


@needs_ipv6
def test_ipv6_listen_and_target_from_the_config() -> None:
    out = Receiver("::1")
    cfg = load_config(None, {"osc": {"listen": "[::1]:0", "out": [out.address]}})
    queue = CommandQueue()
    io = OscIO(
        cfg.osc, ParamRegistry([ParamSpec("mirror.gain", 1.0, 0.0, 3.0, "gain")]), queue, time.monotonic, []
    )
    peer = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    peer.bind(("::1", 0))
    peer.settimeout(3)
    try:
        io.start()
        listen = io.listen_address
        assert listen is not None and listen[0] == "::1" and listen[1] > 0
        peer.sendto(encode_message("/param/mirror.gain", (2.0,)), listen)
        peer.sendto(encode_message("/engine/ping"), listen)
        data, source = peer.recvfrom(1024)  # the pong comes back over IPv6, from the listening port
        assert decode(data)[0].address == "/engine/pong" and source[:2] == listen
        assert [(c.kind, c.args) for c in queue.drain(time.monotonic())] == [("param", ("mirror.gain", 2.0))]
        io.publish(FrameState({"presence": 1.0}, 0.5, [0.25], 30.0), now=0.0)
        got = dict(out.collect(lambda m: "/latent/speed" in dict(m), 3))
        assert got["/viewer/presence"] == [1.0] and got["/latent/speed"] == [0.5]
    finally:
        io.close()
        peer.close()
        out.close()
