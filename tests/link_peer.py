"""A Link peer in its own process, standing in for the DJ's Ableton Live in tests/test_link.py.

Usage: python tests/link_peer.py BPM [QUANTUM]. It starts a session at BPM and answers lines on stdin:
`state` prints one JSON line {"us", "beat", "tempo", "peers"} (the host time in Link µs, its beat
then); `tempo X` sets the session's tempo, as a DJ turning the knob; `quit` leaves the session
(Link says goodbye to the peers) and exits. EOF on stdin quits too, so it never outlives the test.
"""

from __future__ import annotations

import json
import sys

from link import Link


def main(argv: list[str]) -> int:
    bpm = float(argv[0])
    quantum = float(argv[1]) if len(argv) > 1 else 4.0
    peer = Link(bpm)
    peer.enabled = True
    clock = peer.clock()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        state = peer.captureAppSessionState()
        us = clock.micros()
        if cmd[0] == "state":
            out = {"us": us, "beat": state.beatAtTime(us, quantum), "tempo": state.tempo()}
            print(json.dumps({**out, "peers": peer.numPeers()}), flush=True)
        elif cmd[0] == "tempo":
            state.setTempo(float(cmd[1]), us)
            peer.commitAppSessionState(state)
            print(json.dumps({"tempo": float(cmd[1])}), flush=True)
        elif cmd[0] == "quit":
            break
    peer.enabled = False
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
