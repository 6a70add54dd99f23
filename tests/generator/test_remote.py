"""The generator on a real Triton server (2.51, from .venv-triton): the same pictures as in-process,
the engine running on it, a server killed mid-run and back, and the errors a wrong set-up gets."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.app import App
from engine.config import ConfigError, load_config
from engine.generator.manifest import ModelError
from engine.generator.onnx_generator import OnnxGenerator
from engine.generator.remote import GeneratorUnreachable, TritonGenerator
from engine.generator.remote_link import MAX_RETRY_S, Link, parse_remote
from engine.pipeline import absent_viewer
from engine.serve.server import TritonServer
from engine.soak_drive import free_port

from ..conftest import SHIPPED_MODEL
from ..serve.triton import MODEL, WRONG, export_repo, start_server
from ..waiting import wait_until


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_repo(tmp_path_factory.mktemp("triton"))


@pytest.fixture(scope="session")
def server(repo: Path) -> Iterator[TritonServer]:
    srv = start_server(repo, repo.parent / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def local() -> OnnxGenerator:
    return OnnxGenerator(SHIPPED_MODEL, provider="cpu", threads=1)


def grpc_url(srv: TritonServer, model: str = MODEL) -> str:
    return f"triton://{srv.grpc_url}/{model}"


def config(remote: str, **run: object) -> dict:
    base = {"source": "demo", "headless": True, "size": "320x180", **run}
    return {"run": base, "osc": {"listen": "127.0.0.1:0"}, "generator": {"remote": remote}}


# ---------------------------------------------------------------- the URL and the link, no server
def test_urls_parse_and_bad_ones_name_the_key() -> None:
    u = parse_remote("triton://gpu-box:8001/painterly")
    assert (u.protocol, u.host, u.port, u.model, u.address) == (
        "grpc",
        "gpu-box",
        8001,
        "painterly",
        "gpu-box:8001",
    )
    assert parse_remote("http://10.0.0.5/m").port == 8000
    with pytest.raises(ConfigError, match=r"generator\.remote = 'gpu-box:8001'"):
        load_config(None, {"generator": {"remote": "gpu-box:8001"}})
    with pytest.raises(ConfigError, match="generator.inflight"):
        load_config(None, {"generator": {"inflight": 0}})


def test_link_says_an_outage_once_and_backs_off_to_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    now = [0.0]
    link = Link(parse_remote("triton://h:1/m"), clock=lambda: now[0])
    link.back()
    for _ in range(5):  # every request in flight fails with it: one line
        link.lost("Connection refused")

    def wait() -> float:
        start = now[0]
        while not link.due():
            now[0] = round(now[0] + 0.01, 2)
        return round(now[0] - start, 2)

    waits = [wait()]
    for _ in range(7):
        link.lost("Connection refused", retry=True)  # a reconnection failed: twice the wait
        waits.append(wait())
    assert waits == [0.25, 0.5, 1.0, 2.0, 4.0, MAX_RETRY_S, MAX_RETRY_S, MAX_RETRY_S]
    assert link.status() == "generator server triton://h:1/m unreachable; retrying"
    now[0] += 1.0
    link.back()
    assert link.status() == ""
    lines = [r.getMessage() for r in caplog.records]
    assert sum("unreachable: Connection refused; holding the last picture, retrying" in m for m in lines) == 1
    assert sum("back after" in m for m in lines) == 1


# ---------------------------------------------------------------- the server's pictures
@pytest.mark.parametrize("scheme", ["triton", "http"])
def test_frames_match_in_process(server: TritonServer, local: OnnxGenerator, scheme: str) -> None:
    port = server.grpc_port if scheme == "triton" else server.http_port
    gen = TritonGenerator(f"{scheme}://127.0.0.1:{port}/{MODEL}", SHIPPED_MODEL)
    try:
        assert gen.provider == "triton" and gen.status() == ""
        rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
        latents = gen.sample_latents(4, rng_a)  # the mapping network runs here, as in-process
        np.testing.assert_array_equal(latents, local.sample_latents(4, rng_b))
        for batch in (latents[:1], latents):
            diff = float(np.abs(gen.generate(batch) - local.generate(batch)).max())
            print(f"{scheme} batch {len(batch)}: max abs diff {diff}")
            assert diff <= 1e-6
        np.testing.assert_array_equal(gen.generate_rgb(latents[:1]), local.generate_rgb(latents[:1]))
    finally:
        gen.close()


@pytest.mark.parametrize("scheme", ["triton", "http"])
def test_async_requests_arrive_in_flight_together(
    server: TritonServer, local: OnnxGenerator, scheme: str
) -> None:
    port = server.grpc_port if scheme == "triton" else server.http_port
    gen = TritonGenerator(f"{scheme}://127.0.0.1:{port}/{MODEL}", SHIPPED_MODEL, inflight=3)
    got: dict[int, np.ndarray] = {}
    done = threading.Event()
    latents = gen.sample_latents(6, np.random.default_rng(3))

    def keep(i: int):
        def cb(images: np.ndarray | None, error: BaseException | None) -> None:
            assert error is None
            got[i] = images
            if len(got) == len(latents):
                done.set()

        return cb

    for i, z in enumerate(latents):
        gen.submit(z[None], keep(i))
    assert done.wait(30)
    for i, z in enumerate(latents):
        np.testing.assert_allclose(got[i], local.generate(z[None]), atol=1e-6)
    gen.close()


# ---------------------------------------------------------------- the engine on it
@pytest.mark.slow
def test_engine_realtime_and_offline_on_the_server(tmp_path: Path, server: TritonServer) -> None:
    stats = tmp_path / "rt.json"
    app = App(load_config(None, config(grpc_url(server), frames=45, stats=str(stats))))
    assert app.run() == 0
    s = json.loads(stats.read_text())
    assert s["presented"] == 45 and s["provider"] == "triton"
    assert s["stages_ms"]["generator"]["p50"] > 0  # the round trip, timed as the generator stage
    assert s["repeated_frames"] < 40 and app.errors["generator"].count == 0

    def offline(remote: str) -> list[str]:
        cfg = load_config(None, config(remote, offline=True, frames=12))  # "": in this process
        app = App(cfg)
        digests: list[str] = []
        app.on_frame = lambda rgb, _step: digests.append(hashlib.sha1(rgb.tobytes()).hexdigest())
        assert app.run() == 0
        return digests

    remote, here = offline(grpc_url(server)), offline("")
    assert len(remote) == 12 and remote == here  # deterministic: the very same frames
    assert len(set(remote)) > 6


@pytest.mark.slow
def test_newest_image_wins(server: TritonServer) -> None:
    from engine.generator.remote_loop import RemoteLoop
    from engine.realtime import RealtimeRunner

    app = App(load_config(None, config(grpc_url(server), frames=1)))
    runner = RealtimeRunner(app)
    try:
        loop = RemoteLoop(runner)
        step = app.pipeline.advance(absent_viewer(0.0), 0.0, 0.0)
        gen = app.pipeline.generator
        newer, older = gen.generate(step.latent[None] * 0.5), gen.generate(step.latent[None])
        loop._arrived(gen, 2, step, 0.0, newer, None)
        loop._arrived(gen, 1, step, 0.0, older, None)  # came back late: dropped
        seq, frame = runner.images.get()
        assert seq == 1 and loop.stale == 1
        np.testing.assert_array_equal(frame.image, gen.to_rgb8(newer)[0])
    finally:
        runner.source.close()
        app.pipeline.close()


@pytest.mark.slow
def test_server_killed_mid_run_holds_the_picture_and_recovers(
    tmp_path: Path, repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    srv = start_server(repo, tmp_path / "server.log")  # its own: the others keep theirs
    cfg = config(grpc_url(srv), frames=0)
    # a watchdog quick enough that a held picture or a silent generator would count within the outage
    cfg["watchdog"] = {"check_every_s": 0.2, "stage_s": 2.0, "frozen_s": 2.0}
    app = App(load_config(None, cfg))
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(app.run()), name="engine")
    count = lambda: app.metrics.stage_count["generator"]  # noqa: E731
    try:
        thread.start()
        wait_until(lambda: count() > 30, 120, "fresh images from the server")
        srv.kill()
        wait_until(lambda: app.runner and "unreachable" in app.runner._note(), 5, "the note")
        fresh, shown, repeated = count(), app.presented, app.metrics.repeated
        wait_until(lambda: app.presented > shown + 60, 10, "frames presented while the server is away")
        assert count() == fresh  # nothing new: the last picture holds
        assert app.metrics.repeated - repeated >= 55
        assert app.runner._note() == f"generator server {grpc_url(srv)} unreachable; retrying"
        srv.start()  # the same ports, as a restarted service would be
        back = app.wall.now()
        wait_until(lambda: count() > fresh + 10, 15, "fresh images after the server came back")
        print(f"fresh images again {app.wall.now() - back:.2f} s after the server was ready")
        wait_until(lambda: app.runner._note() == "", 5, "the note to clear")
    finally:
        app.stop.set()
        thread.join(30)
        srv.stop()
    assert result == [0]
    lines = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in m and "holding the last picture" in m for m in lines) == 1
    assert sum(f"generator server {grpc_url(srv)} back after" in m for m in lines) == 1
    assert not any(r.exc_info for r in caplog.records)  # no traceback
    assert app.errors["generator"].count == 0
    assert sum(app.watchdog.steps.values()) == 0, app.watchdog.status()


# ---------------------------------------------------------------- a wrong set-up
def test_a_model_that_disagrees_with_the_manifest_stops_the_start(server: TritonServer) -> None:
    with pytest.raises(ModelError) as e:
        App(load_config(None, config(grpc_url(server, WRONG), frames=1)))
    msg = str(e.value)
    assert "\n" not in msg and grpc_url(server, WRONG) in msg and "input 'latent'" in msg and "256" in msg
    with pytest.raises(ModelError, match="no model 'nope' there"):
        TritonGenerator(grpc_url(server, "nope"), SHIPPED_MODEL)


@pytest.mark.slow
def test_unreachable_at_start_realtime_runs_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Realtime starts without its server (black, with the note, retrying); offline needs every frame."""
    url = f"triton://127.0.0.1:{free_port()}/{MODEL}"  # nobody listens there
    app = App(load_config(None, config(url, frames=20)))
    notes: list[str] = []
    app.on_frame = lambda rgb, _step: notes.append(app.runner._note())
    assert app.run() == 0
    assert app.presented == 20 and set(notes) == {f"generator server {url} unreachable; retrying"}
    assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1
    assert not any(r.exc_info for r in caplog.records)
    with pytest.raises(GeneratorUnreachable, match=f"generator server {url} unreachable"):
        App(load_config(None, config(url, offline=True, frames=1)))
