"""The engine's own parameters over any scene's target: identity at the defaults."""

from __future__ import annotations

from engine import engine_params
from engine.messages import Target
from engine.params import ParamRegistry


def test_defaults_change_nothing_and_each_parameter_acts() -> None:
    reg = ParamRegistry()
    engine_params.declare(reg, directions=5)
    assert reg.has("motion.dir.4") and not reg.has("motion.dir.5")  # as many as the model has
    target = Target({0: 1.0}, speed=2.0, drift=0.5, uniforms={"saturation": 1.2, "trails": 0.9})
    same = engine_params.apply(target, reg.snapshot())
    assert same.directions == {0: 1.0} and (same.speed, same.drift) == (2.0, 0.5)
    assert same.uniforms == {"saturation": 1.2, "trails": 0.9, "blackout": 0.0}
    for name, value in {
        "engine.blackout": 1.0,
        "motion.speed": 0.5,
        "motion.drift": 0.0,
        "motion.dir.0": -1.0,
        "motion.dir.3": 2.0,
        "fx.saturation": 2.0,
        "fx.trails": 0.5,
    }.items():
        reg.set(name, value)
    t = engine_params.apply(target, reg.snapshot())
    assert t.directions == {0: 0.0, 3: 2.0} and t.speed == 1.0 and t.drift == 0.0
    assert t.uniforms["blackout"] == 1.0 and t.uniforms["saturation"] == 2.4 and t.uniforms["trails"] == 0.95
