"""User mappings: ranges and curves as data, invertible for feedback; and their config."""

from __future__ import annotations

import pytest

from engine.config import ConfigError, load_config
from engine.control.osc.mapping import OscMapping
from engine.curves import CURVES


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_curves_are_monotonic_and_invert(curve: str) -> None:
    m = OscMapping("/1/fader1", param="p", in_lo=0, in_hi=127, curve=curve)
    xs = [i * 127 / 50 for i in range(51)]
    ys = [m.forward(x, 0.0, 3.0) for x in xs]
    assert ys[0] == pytest.approx(0.0) and ys[-1] == pytest.approx(3.0)
    assert all(b >= a - 1e-12 for a, b in zip(ys, ys[1:]))
    if curve != "step":
        for x in xs:
            assert m.inverse(m.forward(x, 0.0, 3.0), 0.0, 3.0) == pytest.approx(x, abs=1e-6)


def test_out_range_and_reversed_input() -> None:
    m = OscMapping("/knob", param="p", in_lo=1.0, in_hi=0.0, out_lo=0.5, out_hi=1.5)
    assert m.forward(1.0, 0, 3) == 0.5 and m.forward(0.0, 0, 3) == 1.5 and m.forward(-7, 0, 3) == 1.5
    assert m.inverse(1.0, 0, 3) == pytest.approx(0.5)


def test_config_arrays_of_tables(tmp_path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(
        """
[osc]
feedback = ["127.0.0.1:9001"]

[[osc.map]]
address = "/1/fader1"
param = "mirror.gain"
curve = "ease_in"

[[osc.map]]
address = "/1/push1"
to = "/latent/jump"

[[osc.targets]]
address = "127.0.0.1:57120"
groups = ["viewer", "events"]
rate = 60
bundles = false
"""
    )
    cfg = load_config(toml)
    assert [m.address for m in cfg.osc.map] == ["/1/fader1", "/1/push1"]
    targets = cfg.osc.all_targets()
    assert targets[0].groups == ("params", "events") and targets[1].rate == 60 and not targets[1].bundles


@pytest.mark.parametrize(
    "osc, message",
    [
        ({"map": [{"address": "/a", "param": "x", "to": "/latent/jump"}]}, "exactly one"),
        ({"map": [{"address": "a", "param": "x"}]}, "must start with '/'"),
        ({"map": [{"address": "/a", "param": "x", "curve": "eval('1')"}]}, "must be one of"),
        ({"map": [{"address": "/a", "param": "x", "in_lo": 1, "in_hi": 1}]}, "must differ"),
        ({"targets": [{"address": "h:1", "groups": ["video"]}]}, "groups must be some of"),
        ({"targets": [{"groups": ["viewer"]}]}, "address is required"),
        ({"listen": "0.0.0.0:9000"}, "osc.allow"),
        ({"out": ["nohost"]}, "HOST:PORT"),
    ],
)
def test_config_errors_name_the_key(osc: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, {"osc": osc})
