"""The window's keys reach the piece through the same registry and queue as every control surface."""

from __future__ import annotations

from engine.config import load_config
from engine.control import keys
from engine.pipeline import Pipeline


def pipeline() -> Pipeline:
    run = {"source": "demo", "headless": True, "size": "320x180"}
    return Pipeline(load_config(None, {"run": run, "osc": {"listen": "off"}}))


def test_each_control_key_becomes_the_command_osc_would_send() -> None:
    p = pipeline()
    try:
        for key in "jntp":
            assert keys.press(key, p, 1.0)
        cmds = p.commands.drain(2.0)
        assert [(c.kind, c.args, c.origin) for c in cmds] == [
            ("jump", (), "key"),
            ("scene_step", (1,), "key"),
            ("tap", (), "key"),
            ("scene_step", (-1,), "key"),
        ]
        assert (
            keys.press("b", p, 1.0) and p.params.get("engine.blackout") == 1.0
        )  # the registry: feedback follows
        assert keys.press("b", p, 1.1) and p.params.get("engine.blackout") == 0.0
        assert keys.press("l", p, 1.0)  # no MIDI configured: harmless
        assert not keys.press("x", p, 1.0) and not p.commands.drain(9.0)
        assert set(keys.KEYS) == {"b", "j", "n", "p", "t", "l"}
    finally:
        p.close()
