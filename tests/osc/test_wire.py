"""The OSC codec against python-osc (an implementation nobody here wrote), and against junk."""

from __future__ import annotations

import random
import time

import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from engine.control.osc.wire import (
    BUNDLE_TAG,
    MAX_DEPTH,
    OscDecodeError,
    decode,
    encode_bundles,
    encode_message,
    ntp_to_unix,
    unix_to_ntp,
)

from .packets import mutations, nested, seed_packets


def test_encoded_messages_parse_in_python_osc() -> None:
    args = [7, -(2**31), 2**40, 0.25, "hé", b"\x01\x02\x03", True, False]
    m = PyOscMessage(encode_message("/a/b", args))
    assert m.address == "/a/b"
    assert m.params == [7, -(2**31), 2**40, 0.25, "hé", b"\x01\x02\x03", True, False]


def test_decodes_what_python_osc_builds() -> None:
    b = OscMessageBuilder("/x")
    typed = [(3, "i"), (0.5, "f"), (0.125, "d"), ("s", "s"), (b"blob", "b"), (True, "T"), (None, "N")]
    for value, tag in typed:
        b.add_arg(value, tag)
    b.add_arg([1, [2.5, "z"]])
    (msg,) = decode(b.build().dgram)
    assert msg.address == "/x" and msg.timetag is None
    assert msg.args == (3, 0.5, 0.125, "s", b"blob", True, None, [1, [2.5, "z"]])
    assert decode(b"/noargs\x00")[0].args == ()  # OSC 1.0 allows a message without type tags


def test_bundles_round_trip_with_timetag_and_split_below_mtu() -> None:
    msgs = [encode_message(f"/viewer/f{i:02d}", (float(i),)) for i in range(80)]
    t = time.time()
    packets = encode_bundles(msgs, t, limit=1400)
    assert len(packets) > 1 and all(len(p) <= 1400 for p in packets)
    got = [m for p in packets for m in decode(p)]
    assert [m.address for m in got] == [f"/viewer/f{i:02d}" for i in range(80)]
    assert all(abs(m.timetag - t) < 1e-6 for m in got)
    parsed = [tm.message.address for p in packets for tm in OscPacket(p).messages]  # python-osc agrees
    assert parsed == [m.address for m in got]
    assert abs(ntp_to_unix(unix_to_ntp(t)) - t) < 1e-6 and ntp_to_unix(unix_to_ntp(None)) is None


def test_nested_bundle_from_python_osc() -> None:
    inner = OscBundleBuilder(time.time() + 3)
    inner.add_content(OscMessageBuilder("/inner").build())
    outer = OscBundleBuilder(0)
    outer.add_content(OscMessageBuilder("/outer").build())
    outer.add_content(inner.build())
    got = decode(outer.build().dgram)
    assert [m.address for m in got] == ["/outer", "/inner"]
    assert got[1].timetag > time.time() + 2  # the future timetag is data, nobody waits for it


def test_non_utf8_is_a_decode_error_not_a_unicode_error() -> None:
    bad = b"/a\xff\x00" + b",s\x00\x00" + b"\xfe\xfe\x00\x00"
    with pytest.raises(UnicodeDecodeError):  # the python-osc trap this codec avoids
        PyOscMessage(bad)
    with pytest.raises(OscDecodeError, match="UTF-8"):
        decode(bad)
    with pytest.raises(OscDecodeError, match="UTF-8"):
        decode(b"/ok\x00" + b",s\x00\x00" + b"\xfe\xfe\x00\x00")


def test_nesting_is_bounded() -> None:
    assert decode(nested(MAX_DEPTH))[0].address == "/deep"
    with pytest.raises(OscDecodeError, match="too deep"):
        decode(nested(MAX_DEPTH + 1))
    with pytest.raises(OscDecodeError):
        decode(nested(3000))  # python-osc recurses here until RecursionError


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"abcd",
        b"/a\x00",  # not a multiple of 4
        b"/a\x00\x00,q\x00\x00",  # unknown type tag
        b"/a\x00\x00,i\x00\x00\x00\x00",  # truncated int
        b"/a\x00\x00,b\x00\x00\x7f\xff\xff\xff",  # blob larger than the packet
        b"/a\x00\x00,b\x00\x00\xff\xff\xff\xff",  # negative blob size
        b"/a\x00\x00,[[\x00",  # unbalanced array
        b"/a\x00\x00,]\x00\x00",
        b"/a\x00\x00x\x00\x00\x00",  # type tags without a comma
        BUNDLE_TAG,  # truncated bundle header
        BUNDLE_TAG + b"\x00" * 8 + b"\x7f\xff\xff\xf0",  # element larger than the packet
        BUNDLE_TAG + b"\x00" * 8 + b"\x00\x00\x00\x00",  # empty element
        BUNDLE_TAG + b"\x00" * 8 + b"\x00\x00\x00\x04abcd",  # element is neither
    ],
)
def test_malformed_packets_raise_decode_error(packet: bytes) -> None:
    with pytest.raises(OscDecodeError):
        decode(packet)


def test_fuzz_only_decode_errors() -> None:
    rng = random.Random(4)
    n = ok = 0
    t0 = time.perf_counter()
    for packet in mutations(rng, seed_packets(), 20_000):
        n += 1
        try:
            for m in decode(packet):
                assert m.address.startswith("/")
            ok += 1
        except OscDecodeError:
            pass
    elapsed = time.perf_counter() - t0
    print(f"fuzz: {n} packets, {ok} decoded, {n - ok} rejected, {elapsed * 1e6 / n:.1f} µs per packet")
    assert 0 < ok < n
