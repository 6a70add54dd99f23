"""Hostile packets for the codec fuzz test and the running-engine flood test."""

from __future__ import annotations

import random
import struct
import time

from pythonosc.osc_message_builder import OscMessageBuilder

from engine.control.osc.wire import BUNDLE_TAG, encode_bundles, encode_message


def py_message(address: str, *args) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def nested(depth: int) -> bytes:
    packet = encode_message("/deep")
    for _ in range(depth):
        packet = BUNDLE_TAG + struct.pack(">Q", 1) + struct.pack(">i", len(packet)) + packet
    return packet


def mutations(rng: random.Random, seeds: list[bytes], n: int):
    for _ in range(n):
        p = bytearray(rng.choice(seeds))
        how = rng.randrange(5)
        if how == 0:
            yield bytes(rng.randbytes(rng.randrange(0, 96)))
        elif how == 1:
            yield bytes(p[: rng.randrange(len(p) + 1)])
        elif how == 2:
            for _ in range(rng.randrange(1, 6)):
                p[rng.randrange(len(p))] = rng.randrange(256)
            yield bytes(p)
        elif how == 3:
            i = rng.randrange(len(p))
            yield bytes(p[:i] + rng.randbytes(rng.randrange(1, 12)) + p[i:])
        else:
            yield bytes(p + p)


def seed_packets() -> list[bytes]:
    return [
        encode_message("/param/mirror.gain", (0.5,)),
        encode_message("/audio/bands", [0.1, 0.2, 0.3, 0.4]),
        encode_message("/scene/select", ("mirror",)),
        py_message("/x", [1, [2.0, "s"]], b"blob", 2**40),
        *encode_bundles([encode_message("/sync/beat", (3,)), encode_message("/sync/bpm", (120.0,))], 1e10),
        nested(3),
    ]


def future_bundles(now: float) -> list[bytes]:
    """Bundles due in half a second, in a minute, in a year, and at the end of NTP time."""
    out = []
    for ahead in (0.5, 60.0, 3.2e7):
        messages = [encode_message("/sync/beat"), encode_message("/fx/unknown", (1,))]
        out += encode_bundles(messages, now + ahead)
    out.append(BUNDLE_TAG + b"\xff" * 8 + struct.pack(">i", 8) + b"/a\x00\x00,\x00\x00\x00")
    return out


def hostile_stream(rng: random.Random, n: int) -> list[bytes]:
    """Random bytes, mutations of every kind of valid packet, junk of every kind, future-dated bundles."""
    now = time.time()
    valid = [
        *seed_packets(),
        encode_message("/param/fx.hue_shift", (0.1,)),
        encode_message("/latent/jump"),
        encode_message("/latent/seed", (7,)),
        encode_message("/audio/level", (0.3,)),
        encode_message("/preset/save", ("flood",)),
        encode_message("/engine/ping", (9,)),
        *future_bundles(now),
    ]
    junk = [
        b"/param/mirror.gain\x00\x00,s\x00\x00\xff\xfe\x00\x00",  # non-UTF-8 string
        b"/\xc3\x28\x00\x00",  # non-UTF-8 address
        encode_message("/param/mirror.gain", ("loud",)),  # wrong type
        encode_message("/param/mirror.gain", (b"blob",)),
        encode_message("/latent/seed", (-4,)),
        encode_message("/engine/ping", (70000,)),
        encode_message("/preset/load", ("../../etc/passwd",)),
        nested(3000),  # deep nesting
        encode_message("/big", [1.0] * 4000),  # 16 KB, still parses
        bytes(60000),  # 60 KB of zeros
    ]
    out = list(mutations(rng, valid + junk, n - len(junk) - len(valid)))
    return out + junk + valid
