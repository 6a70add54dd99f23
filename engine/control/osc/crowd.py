"""The crowd over OSC: /crowd/* state per frame, /crowd/enter and /crowd/leave as events.

The crowd goes out through the same OscOut as the viewer's features (engine.control.osc.sender): its
state rides in the "viewer" group's per-frame bundle, at each target's rate, and its events in the "events"
group, never rate-dropped. A Viewer (and so its Crowd) is presented on several render frames in a
row when perception runs slower than the render loop; `CrowdEvents` sends each perceived frame's
enter and leave once, however often that frame is presented.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.control.osc.wire import Sendable, encode_message
from engine.perception.crowd_types import Crowd

ADDRESSES = {
    "/crowd/count": "<int> people in view",
    "/crowd/centroid": "<float x> <float y> their mean position, 0..1 of the frame (0.5 0.5: nobody)",
    "/crowd/spread": "<float> RMS distance of the people from their centroid, 0..~0.7",
    "/crowd/motion": "<float> total speed of the people, frame widths per second",
    "/crowd/enter": "<int id> a person came into view (event)",
    "/crowd/leave": "<int id> a person left the view (event)",
}


def crowd_messages(c: Crowd) -> list[bytes]:
    """The crowd's per-frame state as encoded OSC messages."""
    return [
        encode_message("/crowd/count", (int(c.count),)),
        encode_message("/crowd/centroid", (float(c.x), float(c.y))),
        encode_message("/crowd/spread", (float(c.spread),)),
        encode_message("/crowd/motion", (float(c.motion),)),
    ]


class CrowdEvents:
    """Sends each perceived frame's enter/leave once, through `event` (OscOut.event)."""

    def __init__(self, event: Callable[..., None]) -> None:
        self.event = event
        self._seen: tuple[int, float] | None = None  # (frame index, capture time) of the last crowd sent

    def __call__(self, c: Crowd | None) -> None:
        if c is None:
            return
        key = (c.frame_index, c.capture_time)
        if key == self._seen:
            return
        self._seen = key
        for address, ids in (("/crowd/enter", c.entered), ("/crowd/leave", c.left)):
            for i in ids:
                args: tuple[Sendable, ...] = (int(i),)
                self.event(address, *args)
