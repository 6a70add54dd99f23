"""The HTTP status port over real HTTP on loopback: /status, /metrics, 404, 500, access, config, e2e."""

from __future__ import annotations

import base64
import json
import math
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.config import ConfigError, load_config
from engine.control.http import StatusServer, start_status_server, status_json
from engine.metrics import Metrics
from engine.procstat import sample

ROOT = Path(__file__).resolve().parents[1]


class LiveStatus:
    """A small real status source: a Metrics fed with timed work, and this process's own numbers."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.t0 = time.monotonic()
        self.errors = {"perception": 0, "generator": 0, "render": 0, "recording": 0}
        self.steps = {"reset_latent": 0, "rebuild_generator": 0, "reopen_camera": 0, "exit": 0}
        self.fail: Exception | None = None
        self.work()

    def work(self, frames: int = 20) -> None:
        """Present `frames` frames, each behind a real (small) generator-like computation."""
        rng = np.random.default_rng(0)
        for _ in range(frames):
            t = time.monotonic()
            np.linalg.svd(rng.standard_normal((64, 64)))
            now = time.monotonic()
            self.metrics.stage("generator", (now - t) * 1000, now)
            self.metrics.presented_frame(now, t, False)
            time.sleep(0.002)

    def __call__(self) -> dict:
        if self.fail is not None:
            raise self.fail
        m, now, proc = self.metrics, time.monotonic(), sample()
        lat = m.summary()["latency_ms"]
        stages = {
            s: {"age_s": m.stage_age(s, now), "ms_p50": m.recent_ms(s), "hz": m.rate(s)}
            for s in ("perception", "generator", "render")
        }
        return {
            "ok": True,
            "uptime_s": now - self.t0,
            "version": "test",
            "fps": m.recent_fps(now),
            "fps_avg": m.fps(),
            "presented": m.presented,
            "latency_ms": {"p50": lat["p50"], "p95": lat["p95"]},
            "stages": stages,
            "camera": {"source": "demo", "live": True, "status": "demo"},
            "viewer_present": False,
            "scene": "mirror",
            "provider": "cpu",
            "model": "painterly",
            "rss_mb": proc.rss_mb,
            "threads": proc.threads,
            "open_files": proc.open_files,
            "errors": dict(self.errors),
            "watchdog": {
                "faults": {"black": self.steps["reset_latent"]},
                "steps": dict(self.steps),
                "last": "",
            },
            "sleeping": False,
            "recording": False,
        }


def get(url: str, password: str | None = None, user: str = "staff") -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url)
    if password is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def live() -> LiveStatus:
    return LiveStatus()


@pytest.fixture
def server(live: LiveStatus):
    srv = StatusServer("127.0.0.1:0", "", live)
    srv.start()
    yield srv
    srv.close()


def test_status_is_the_dict_as_json(server: StatusServer, live: LiveStatus) -> None:
    code, headers, body = get(server.url + "/status")
    assert code == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert set(doc) == set(live())
    assert doc["presented"] == 20 and doc["fps_avg"] > 0 and doc["stages"]["perception"]["age_s"] is None
    assert doc["threads"] >= threading.active_count() and doc["rss_mb"] > 10 and doc["open_files"] > 3
    live.work(5)  # read at request time: nothing is cached
    time.sleep(0.05)
    again = json.loads(get(server.url + "/status/?x=1")[2])
    assert again["presented"] == 25 and again["uptime_s"] > doc["uptime_s"]


def test_metrics_follow_the_status(server: StatusServer, live: LiveStatus) -> None:
    live.errors["generator"] = 3
    live.steps["reset_latent"] = 2
    code, headers, body = get(server.url + "/metrics")
    assert code == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    doc = live()
    assert samples[("latent_mirror_ok", ())] == 1.0
    assert samples[("latent_mirror_presented_frames_total", ())] == 20
    assert samples[("latent_mirror_fps_average", ())] == pytest.approx(doc["fps_avg"], rel=1e-6)
    assert samples[("latent_mirror_camera_live", ())] == 1.0
    assert samples[("latent_mirror_viewer_present", ())] == 0.0
    assert samples[("latent_mirror_resident_memory_bytes", ())] == pytest.approx(
        doc["rss_mb"] * 2**20, rel=0.2
    )
    assert samples[("latent_mirror_errors_total", (("stage", "generator"),))] == 3
    assert samples[("latent_mirror_watchdog_steps_total", (("step", "reset_latent"),))] == 2
    assert samples[("latent_mirror_watchdog_faults_total", (("kind", "black"),))] == 2
    gen = (("stage", "generator"),)
    assert samples[("latent_mirror_stage_duration_seconds", gen)] == pytest.approx(
        doc["stages"]["generator"]["ms_p50"] / 1000, rel=1e-6
    )
    assert 0 <= samples[("latent_mirror_stage_age_seconds", gen)] < 5
    assert ("latent_mirror_stage_age_seconds", (("stage", "perception"),)) not in samples  # never beat
    p95 = samples[("latent_mirror_latency_seconds", (("quantile", "0.95"),))]
    assert p95 == pytest.approx(doc["latency_ms"]["p95"] / 1000, rel=1e-6)
    assert samples[("latent_mirror_engine_info", (("camera_source", "demo"), ("model", "painterly"),
                    ("provider", "cpu"), ("scene", "mirror"), ("version", "test")))] == 1.0  # fmt: skip
    # a Prometheus server asks for OpenMetrics and gets it
    req = urllib.request.Request(server.url + "/metrics", headers={"Accept": "application/openmetrics-text"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Type"].startswith("application/openmetrics-text")
        assert r.read().rstrip().endswith(b"# EOF")


def test_other_paths_are_json_404s(server: StatusServer) -> None:
    for path in ("/", "/status.json", "/metrics/x", "/../etc/passwd"):
        code, headers, body = get(server.url + path)
        assert code == 404 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["paths"] == ["/status", "/metrics"]
    req = urllib.request.Request(server.url + "/status", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 501 and "error" in json.loads(e.value.read())


def test_idle_connections_cannot_take_every_thread(server: StatusServer) -> None:
    """16 clients that connect and say nothing: the 17th is closed at once; when they go, it answers."""
    idle = [socket.create_connection(server.address, timeout=5) for _ in range(16)]
    try:
        time.sleep(0.2)
        with socket.create_connection(server.address, timeout=5) as extra:
            try:
                extra.sendall(b"GET /status HTTP/1.0\r\n\r\n")
                answer = extra.recv(100)
            except ConnectionResetError:
                answer = b""
            assert answer == b""  # closed without an answer
    finally:
        for s in idle:
            s.close()
    time.sleep(0.2)
    assert get(server.url + "/status")[0] == 200


def test_a_failing_status_is_a_500_and_the_server_goes_on(server: StatusServer, live: LiveStatus) -> None:
    live.fail = RuntimeError("watchdog lock poisoned")
    for path in ("/status", "/metrics"):
        code, _, body = get(server.url + path)
        assert code == 500
        assert json.loads(body) == {"error": "status failed: RuntimeError: watchdog lock poisoned"}
    live.fail = None
    assert get(server.url + "/status")[0] == 200


def test_nan_is_null_and_missing_keys_are_left_out() -> None:
    srv = StatusServer("127.0.0.1:0", "", lambda: {"ok": False, "fps": math.nan, "rss_mb": np.float32(12.5)})
    srv.start()
    try:
        assert json.loads(get(srv.url + "/status")[2]) == {"ok": False, "fps": None, "rss_mb": 12.5}
        text = get(srv.url + "/metrics")[2].decode()
        names = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
        assert {"latent_mirror_ok", "latent_mirror_resident_memory_bytes"} <= names
        assert "latent_mirror_fps" not in names and "latent_mirror_uptime_seconds" not in names
    finally:
        srv.close()


def test_beyond_loopback_needs_a_password(live: LiveStatus) -> None:
    with pytest.raises(ValueError, match="http.password"):
        StatusServer("0.0.0.0:0", "", live)
    srv = StatusServer("0.0.0.0:0", "s3cret", live)
    srv.start()
    try:
        url = f"http://127.0.0.1:{srv.port}/status"
        code, headers, _ = get(url)
        assert code == 401 and headers["WWW-Authenticate"].startswith('Basic realm="latent-mirror"')
        assert get(url, "wrong")[0] == 401
        assert get(url, "s3cret", user="")[0] == 200  # any user name
        assert get(url, "s3cret")[0] == 200
        req = urllib.request.Request(url, headers={"Authorization": "Basic !!notbase64"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401
    finally:
        srv.close()


def test_a_password_on_loopback_is_asked_too(live: LiveStatus) -> None:
    srv = StatusServer("127.0.0.1:0", "pw", live)
    srv.start()
    try:
        assert get(srv.url + "/metrics")[0] == 401 and get(srv.url + "/metrics", "pw")[0] == 200
    finally:
        srv.close()


def test_a_taken_port_is_logged_and_the_piece_runs_on(live: LiveStatus, caplog) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(OSError):
            StatusServer(f"127.0.0.1:{port}", "", live)
        assert start_status_server(f"127.0.0.1:{port}", "", live) is None
    assert any(f"cannot listen on 127.0.0.1:{port}" in r.getMessage() for r in caplog.records)
    assert start_status_server("off", "", live) is None


def test_config_names_the_key() -> None:
    assert load_config(None, {"http": {"listen": "127.0.0.1:8080"}}).http.listen == "127.0.0.1:8080"
    assert load_config(None, {"http": {"listen": "0.0.0.0:8080", "password": "x"}}).http.password == "x"
    with pytest.raises(ConfigError, match=r"^http: listen = '0.0.0.0:8080' .*http.password"):
        load_config(None, {"http": {"listen": "0.0.0.0:8080"}})
    with pytest.raises(ConfigError, match=r"^http: listen = 'localhost' must look like HOST:PORT"):
        load_config(None, {"http": {"listen": "localhost"}})


def test_run_installation_flag(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        import run_installation
    finally:
        sys.path.remove(str(ROOT))
    assert run_installation.overrides(run_installation.parse_args(["--http", "8123"]))["http"] == {
        "listen": "127.0.0.1:8123"
    }
    assert run_installation.overrides(run_installation.parse_args(["--http", "[::1]:9"]))["http"] == {
        "listen": "[::1]:9"
    }
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--http", "0.0.0.0:8080", "--source", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "config error: http: listen = '0.0.0.0:8080' reaches beyond this machine: set http.password "
        "(HTTP basic auth), or listen on 127.0.0.1"
    ]


def test_status_json_fits_a_packet() -> None:
    doc = {"ok": True, "fps": 30.0, "big": "x" * 5000, "errors": {"a": 1}}
    text = status_json(doc, 200)
    assert len(text) <= 200 and json.loads(text) == {
        "ok": True,
        "fps": 30.0,
        "errors": {"a": 1},
        "trimmed": ["big"],
    }
    assert status_json({"ok": True, "fps": math.inf}) == '{"ok":true,"fps":null}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_running_engine_serves_its_status() -> None:
    """The real engine in a subprocess: /status and /metrics answer while it presents frames."""
    port = free_port()
    cmd = [sys.executable, str(ROOT / "run_installation.py"), "--source", "demo", "--headless"]
    cmd += ["--size", "320x180", "--http", f"127.0.0.1:{port}", "--frames", "200", "--osc-in", "off"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[dict] = []
    metrics = ""
    try:
        end = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < end:
            try:
                code, _, body = get(f"http://127.0.0.1:{port}/status")
                if code == 200:
                    seen.append(json.loads(body))
                    metrics = get(f"http://127.0.0.1:{port}/metrics")[2].decode()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out[-3000:]
    assert seen, f"/status never answered on port {port}; engine output:\n{out[-3000:]}"
    last = seen[-1]
    assert last["camera"]["source"] == "demo" and last["provider"] == "cpu" and last["scene"] == "mirror"
    assert max(s["presented"] for s in seen) > min(s["presented"] for s in seen)  # read live: it moved
    assert last["fps"] > 1 and last["stages"]["generator"]["hz"] > 1 and last["ok"] is True
    # perception runs in its own process by default (the last reading may come after it was closed)
    children = [c for s in seen if (c := s["perception_process"])]  # null until perception starts
    assert all(c["restarts"] == 0 for c in children) and len({c["pid"] for c in children} - {None}) == 1
    assert sum(c["up"] for c in children) >= len(children) - 1, children
    assert children[0]["pid"] != proc.pid
    names = {s.name for f in text_string_to_metric_families(metrics) for s in f.samples}
    assert {
        "latent_mirror_fps",
        "latent_mirror_presented_frames_total",
        "latent_mirror_stage_age_seconds",
        "latent_mirror_perception_restarts_total",
    } <= names
