"""The realtime generator stage for a remote generator: several requests in flight, newest wins.

One request at a time would cap fresh images at 1 / round trip; with `inflight` of them out, a new
latent leaves as soon as a slot frees, so the network's share hides behind the frame period. Each
slot takes the newest latent there is when it frees (never a queue of old ones), and an image that
comes back after a newer one was delivered is dropped: what is on screen only moves forward.

While the server is away nothing is sent: the render loop keeps showing the last picture (black
with the note, when the server has not answered since the start), and the link retries on its
schedule. The round trip is timed as the generator stage, so --stats and the HUD report it.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import numpy as np

from engine.generator.manifest import ModelError
from engine.generator.remote import GeneratorUnreachable, TritonGenerator

if TYPE_CHECKING:
    from engine.pipeline import Step
    from engine.realtime import RealtimeRunner

log = logging.getLogger(__name__)

IDLE_S = 0.05  # how often a loop with no server looks whether a retry is due


class RemoteLoop:
    def __init__(self, runner: RealtimeRunner) -> None:
        self.runner, self.app = runner, runner.app
        self._cond = threading.Condition()
        self._out = 0  # requests in flight
        self._next_id = 0  # request ids in the order they were sent
        self._newest = -1  # the id of the newest image delivered
        self.stale = 0  # images dropped because a newer one had arrived first
        self._held_black = False
        self._said: str = ""  # the last model mismatch said on a reconnection (said once)

    def run(self) -> None:
        app, runner = self.app, self.runner
        seq = 0
        while not app.stop.is_set():
            gen = app.pipeline.generator  # read each time: the watchdog may rebuild it
            if not isinstance(gen, TritonGenerator):
                return
            if not runner.awake.is_set():
                runner.awake.wait(0.5)
                continue
            if not gen.link.up:
                self._while_away(gen)
                continue
            if not self._take_slot(gen.inflight):
                continue
            seq, step = runner.latents.wait_newer(seq, timeout=0.5)
            if step is None or app.stop.is_set() or not runner.awake.is_set() or not gen.link.up:
                self._free_slot()
                continue
            self._send(gen, step)

    # ------------------------------------------------------------ slots
    def _take_slot(self, inflight: int) -> bool:
        with self._cond:
            if not self._cond.wait_for(lambda: self._out < inflight, timeout=0.1):
                return False
            self._out += 1
            return True

    def _free_slot(self) -> None:
        with self._cond:
            self._out -= 1
            self._cond.notify_all()

    # ------------------------------------------------------------ requests
    def _send(self, gen: TritonGenerator, step: Step) -> None:
        rid, self._next_id = self._next_id, self._next_id + 1
        t0 = self.app.wall.now()

        def done(raw: np.ndarray | None, error: BaseException | None) -> None:
            try:
                self._arrived(gen, rid, step, t0, raw, error)
            except Exception as e:  # noqa: BLE001 - a client thread must never die of it
                self.app.errors["generator"](e)
            finally:
                self._free_slot()

        try:
            gen.submit(step.latent[None], done)
        except Exception as e:  # noqa: BLE001 - a closed channel raises here, not in the callback
            self._free_slot()
            gen.lost(e)

    def _arrived(
        self,
        gen: TritonGenerator,
        rid: int,
        step: Step,
        t0: float,
        raw: np.ndarray | None,
        error: BaseException | None,
    ) -> None:
        from engine.realtime import GeneratedFrame

        if error is not None or raw is None:
            gen.lost(error or RuntimeError("empty answer"))  # the link says it once per outage
            return
        app = self.app
        t1 = app.wall.now()
        app.metrics.stage("generator", (t1 - t0) * 1000.0, t1)
        gen.link.delivered()
        finite = bool(np.isfinite(raw).all())
        if not finite:
            app.errors["generator"](FloatingPointError("the generator produced NaN/inf"))
        image = gen.to_rgb8(raw)[0] if finite else None
        capture = step.viewer.capture_time if step.viewer.frame_index >= 0 else None
        with self._cond:  # the check and the hand-off together: an older image never lands last
            if rid < self._newest:
                self.stale += 1
                return
            self._newest = rid
            self.runner.images.put(GeneratedFrame(image, capture, step, generated=(t0, t1)))

    # ------------------------------------------------------------ no server
    def _while_away(self, gen: TritonGenerator) -> None:
        if not gen.link.ever_up and not self._held_black:
            _, step = self.runner.latents.get()
            if step is not None:  # nothing to hold yet: black, so the note can be read on the wall
                from engine.realtime import GeneratedFrame

                m = gen.manifest
                self.runner.images.put(GeneratedFrame(np.zeros((m.height, m.width, 3), np.uint8), None, step))
                self._held_black = True
        if not gen.link.due():
            self.app.stop.wait(IDLE_S)
            return
        try:
            gen.connect()
            self._said = ""
        except GeneratorUnreachable:
            pass  # the link counts the try and doubles its wait
        except ModelError as e:  # reachable, but it serves another model now: retried like an outage
            gen.link.lost(str(e), retry=True)
            if str(e) != self._said:
                log.error("%s", e)
                self._said = str(e)
