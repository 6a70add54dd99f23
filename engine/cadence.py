"""When the render thread steps the latent and when it presents: the realtime loop's timing policy.

A fixed 30 Hz tick that polls its inputs adds up to a frame period of waiting at each hand-off: a
viewer that arrives just after a tick waits for the next one before the latent moves, and an image
the generator finishes just after a tick waits again before it is shown. On a 2-core CPU those two
waits were a third of the capture→present latency. So the render thread sleeps until something
happens and reacts at once:

- a new viewer steps the latent immediately, so the generator starts on it without waiting for a tick;
- otherwise the latent steps once a period, counted from the last step, so the generator makes
  about `fps` images a second and never takes more CPU than the picture can show;
- a fresh image is presented as soon as it arrives, if the fps cap allows: presents spend credit
  that accrues at `fps` a second up to a little more than one frame's worth (so a present that came
  late is made up by the next), and a fresh image may go when there is `MIN_GAP` of a frame (room
  for the jitter of arrivals), so the average never passes `fps`;
- with no fresh image, the last one is presented again once a period: the OSC out, the HUD and
  the watchdog's pings never stop because a stage did.

Pure logic on an injected time: the loop in engine.realtime feeds it, tests drive it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_GAP = 0.75  # share of a period a fresh image waits after the last present, at least
MAX_CREDIT = 1.25  # a present a little late lets the next come that much sooner: the average holds


@dataclass
class Cadence:
    fps: float
    last_step: float = -1e9
    last_present: float = -1e9
    credit: float = 1.0  # frames the cap allows now: +fps per second up to MAX_CREDIT, -1 per present

    @property
    def period(self) -> float:
        return 1.0 / self.fps

    def wants_step(self, now: float, new_viewer: bool) -> bool:
        """Whether to run the scene and the integrator now and hand the generator the result."""
        return new_viewer or now - self.last_step + 1e-9 >= self.period

    def wants_present(self, now: float, fresh_image: bool) -> bool:
        """Whether to present now: a fresh image as soon as the cap allows, or anything once a period."""
        credit = self._credit(now) + 1e-9  # a deadline computed by next_due counts as reached
        return credit >= 1.0 or (fresh_image and credit >= MIN_GAP)

    def _credit(self, now: float) -> float:
        return min(MAX_CREDIT, self.credit + max(0.0, now - self.last_present) * self.fps)

    def stepped(self, now: float) -> None:
        self.last_step = now

    def presented(self, now: float) -> None:
        self.credit = self._credit(now) - 1.0
        self.last_present = now

    def next_due(self, fresh_image: bool) -> float:
        """The clock time the loop must look again at the latest, if nothing arrives before."""
        p = self.period
        need = (MIN_GAP if fresh_image else 1.0) - self.credit  # frames of credit still to accrue
        return min(self.last_step + p, self.last_present + max(0.0, need) * p)
