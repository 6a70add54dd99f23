"""The offline runner: every source frame through every stage, in order, on a fixed-step clock.

The same stages as realtime, called one after another, so the same input always renders the same
frames: for rendering a video from a recorded input, and for tests that check exact frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.clock import FixedStepClock
from engine.perception.crowd import build_perceiver
from engine.sources import CameraSource, SourceError, VideoSource, open_source

if TYPE_CHECKING:
    from engine.app import App


def run_offline(app: App) -> None:
    cfg = app.cfg
    probe = open_source(
        cfg.run.source,
        FixedStepClock(cfg.run.offline_fps),
        width=cfg.camera.width,
        height=cfg.camera.height,
        fps=cfg.run.offline_fps,
        loop=bool(cfg.run.frames),  # a video plays once unless --frames asks for more
    )
    if isinstance(probe, CameraSource):
        probe.close()
        raise SourceError("--offline needs a video, an image or the demo; a camera only runs realtime")
    if not cfg.run.frames and not isinstance(probe, VideoSource):
        probe.close()
        raise SourceError(f"--offline with source '{cfg.run.source}' never ends by itself: add --frames N")
    clock = FixedStepClock(probe.fps)
    dt = 1.0 / probe.fps
    limit = cfg.run.frames or None
    perceiver = build_perceiver(cfg)  # the viewer, and the crowd where a scene reads it
    output = app.open_output(probe.fps)
    try:
        for frame in probe.frames(limit):
            if app.stop.is_set():
                break
            t = clock.advance() - dt  # frame i is shown at i·dt
            app.between_frames()
            viewer = app.timed("perception", lambda f=frame: perceiver.process(f))
            step = app.pipeline.advance(viewer, t, dt)
            gen = app.pipeline.generator
            image = app.timed("generator", lambda s=step, gen=gen: gen.generate_rgb(s.latent[None])[0])
            app.present(output, image, step, frame.capture_time, False, "", shown_at=t)
            if app.handle_keys(output):
                break
    finally:
        probe.close()
        perceiver.close()
        app.finish_output(output)
