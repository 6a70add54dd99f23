"""The window's keys as a control surface: each key a command on the same queue (or registry) as OSC.

Keys are for whoever stands at the machine; a key that changes the piece goes through the registry
or the command queue like every other surface, so controllers' feedback and the web panel follow
(a blackout from the keyboard lights the controller's blackout button). The window itself (quit,
fullscreen, the HUD) stays with the output, in engine.app.
"""

from __future__ import annotations

from engine.pipeline import Pipeline

KEYS = {
    "b": "blackout on/off",
    "j": "jump to a new keyframe",
    "n": "next scene (the show's entry with a show)",
    "p": "previous scene",
    "t": "tap tempo (as /sync/tap)",
    "l": "MIDI learn: the last parameter changed binds to the next control moved",
}


def press(key: str, pipeline: Pipeline, now: float) -> bool:
    """Apply `key` at wall time `now`; False when it is not a control key."""
    if key == "b":
        params = pipeline.params
        params.set("engine.blackout", 0.0 if params.get("engine.blackout") >= 0.5 else 1.0, "key")
    elif key == "j":
        pipeline.commands.put("jump", (), now, origin="key")
    elif key in ("n", "p"):
        pipeline.commands.put("scene_step", (1 if key == "n" else -1,), now, "key")
    elif key == "t":
        pipeline.commands.put("tap", (), now, origin="key")
    elif key == "l":
        if pipeline.midi is not None:
            pipeline.midi.learn_last()
    else:
        return False
    return True
