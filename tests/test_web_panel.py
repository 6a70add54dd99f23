"""The staff's web panel over real HTTP on loopback: the page, state, events, thumbnail, controls,
and every bad input answered with a clear 4xx that changes nothing."""

from __future__ import annotations

import base64
import http.client
import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine import engine_params
from engine.control.commands import CommandQueue
from engine.control.http import StatusServer
from engine.control.web.panel import MAX_BODY, MAX_STREAMS, WebPanel
from engine.control.web.thumbnail import WANT_FOR_S, Thumbnail, encode_jpeg
from engine.params import ParamRegistry
from engine.presets import Preset, Presets
from engine.scene import scene_class, scene_names


class Rig:
    """A real registry (the engine's and every scene's parameters), queue, presets and server."""

    def __init__(self, tmp_path: Path, password: str = "") -> None:
        self.registry = ParamRegistry()
        engine_params.declare(self.registry, 8)
        for name in scene_names():
            for spec in scene_class(name).params:
                self.registry.declare(spec)
        self.commands = CommandQueue()
        self.presets = Presets(tmp_path / "presets")
        self.presets.save(Preset("evening", "pulse", {"pulse.bpm": 90.0}))
        self.scene = "mirror"
        self.fail: Exception | None = None
        self.panel = WebPanel.standalone(
            self.status, self.registry, self.commands, scene_names(), self.presets.names, tick_s=0.1
        )
        self.server = StatusServer("127.0.0.1:0", password, self.status, self.panel)
        self.server.start()
        self.password = password

    def status(self) -> dict:
        if self.fail is not None:
            raise self.fail
        return {"ok": True, "fps": 29.5, "scene": self.scene, "uptime_s": 12.0, "errors": {"render": 0}}

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self.server.address, timeout=10)
        h = {"Content-Type": "application/json"} if body is not None or raw is not None else {}
        if self.password:
            h["Authorization"] = "Basic " + base64.b64encode(f"staff:{self.password}".encode()).decode()
        h.update(headers or {})
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def drain(self) -> list[tuple[str, tuple, str]]:
        return [(c.kind, c.args, c.origin) for c in self.commands.drain(time.monotonic() + 1)]


@pytest.fixture(scope="module")
def shared_rig(tmp_path_factory: pytest.TempPathFactory):
    r = Rig(tmp_path_factory.mktemp("web"))  # one server for the module: each close waits 0.5 s
    yield r
    r.server.close()


@pytest.fixture
def rig(shared_rig: Rig) -> Rig:
    """The shared server as new: nothing queued, every parameter at its default."""
    shared_rig.drain()
    for spec in shared_rig.registry.specs():
        shared_rig.registry.set(spec.name, spec.default, "test")
    shared_rig.scene = "mirror"
    shared_rig.fail = None
    shared_rig.panel.thumbnail = Thumbnail()
    end = time.monotonic() + 5  # an earlier test's stream ends at its next write
    while shared_rig.panel.streams:
        assert time.monotonic() < end, "event streams outlive their connections"
        time.sleep(0.02)
    return shared_rig


# ---------------------------------------------------------------------- the page and its state
def test_the_page_and_its_files(rig: Rig) -> None:
    code, headers, body = rig.request("GET", "/")
    assert code == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script src="/panel.js">' in body and b'id="blackout"' in body and b'id="thumb"' in body
    for path, kind, needle in (
        ("/panel.js", "text/javascript", b"EventSource"),
        ("/panel.css", "text/css", b"#thumb"),
    ):
        code, headers, body = rig.request("GET", path)
        assert code == 200 and headers["Content-Type"] == kind and needle in body
    assert rig.request("HEAD", "/")[0] == 200
    assert rig.request("GET", "/status")[0] == 200  # the server's own routes still answer
    code, _, body = rig.request("GET", "/nothing")
    assert code == 404 and "error" in json.loads(body)


def test_state_lists_the_registry(rig: Rig) -> None:
    rig.registry.set("mirror.gain", 1.5, "test") if rig.registry.has("mirror.gain") else None
    code, _, body = rig.request("GET", "/api/state")
    assert code == 200
    doc = json.loads(body)
    assert doc["scenes"] == sorted(scene_names()) and doc["presets"] == ["evening"]
    assert doc["status"]["fps"] == 29.5
    by_name = {p["name"]: p for p in doc["params"]}
    assert set(by_name) == {s.name for s in rig.registry.specs()}
    bpm = by_name["pulse.bpm"]
    assert (bpm["lo"], bpm["hi"], bpm["kind"], bpm["value"]) == (40.0, 240.0, "float", 120.0)
    assert bpm["doc"] == rig.registry.spec("pulse.bpm").doc
    assert by_name["engine.blackout"]["value"] == 0.0


# ---------------------------------------------------------------------- controls: the OSC path
def test_controls_queue_the_osc_commands_with_origin_web(rig: Rig) -> None:
    code, _, body = rig.request("POST", "/api/param", {"name": "pulse.bpm", "value": 90})
    assert code == 202 and json.loads(body) == {"queued": True, "name": "pulse.bpm", "value": 90.0}
    code, _, body = rig.request("POST", "/api/param", {"name": "pulse.bpm", "value": 1000})
    assert code == 202 and json.loads(body)["value"] == 240.0  # clamped, as over OSC
    assert rig.request("POST", "/api/blackout", {"value": True})[0] == 202
    assert rig.request("POST", "/api/scene", {"name": "pulse"})[0] == 202
    assert rig.request("POST", "/api/preset", {"name": "evening"})[0] == 202
    assert rig.drain() == [
        ("param", ("pulse.bpm", 90.0), "web"),
        ("param", ("pulse.bpm", 1000.0), "web"),
        ("param", ("engine.blackout", 1.0), "web"),
        ("scene", ("pulse",), "web"),
        ("preset_load", ("evening",), "web"),
    ]
    assert rig.registry.set("pulse.bpm", 1000.0, "web") == 240.0  # what the render thread then does


BAD_POSTS = [
    ("/api/param", {"name": "nope.gain", "value": 1}, 400, "unknown parameter 'nope.gain'"),
    ("/api/param", {"name": "pulse.bpm", "value": "fast"}, 400, "must be a number, got 'fast'"),
    ("/api/param", {"name": "pulse.bpm"}, 400, "must be a number, got None"),
    ("/api/param", {"value": 1}, 400, "unknown parameter None"),
    ("/api/param", [1, 2], 400, "body must be a JSON object"),
    ("/api/blackout", {"value": [1]}, 400, "blackout value must be a number"),
    ("/api/scene", {"name": "disco"}, 400, "no scene named 'disco' (scenes: conductor,"),
    ("/api/scene", {"name": 3}, 400, "scene must be a name"),
    ("/api/preset", {"name": "morning"}, 400, "no preset named 'morning' (presets: evening)"),
    ("/api/preset", {"name": "../../etc/passwd"}, 400, "must be 1-64 letters, digits"),
]


@pytest.mark.parametrize(("path", "body", "code", "error"), BAD_POSTS)
def test_bad_requests_are_400s_that_change_nothing(rig: Rig, path, body, code, error) -> None:
    before = rig.registry.snapshot()
    got, headers, answer = rig.request("POST", path, body)
    assert got == code and headers["Content-Type"] == "application/json"
    doc = json.loads(answer)
    assert list(doc) == ["error"] and error in doc["error"] and "\n" not in doc["error"]
    assert rig.drain() == [] and rig.registry.snapshot() == before


def test_malformed_bodies(rig: Rig) -> None:
    cases = [
        (b'{"name": "pulse.bpm", "value": NaN}', {}, 400, "NaN is not a number JSON allows"),
        (b'{"name": "pulse.bpm", "value": 1e999}', {}, 400, "must be a number, got inf"),
        (b"{not json", {}, 400, "body is not JSON"),
        (b"\xff\xfe", {}, 400, "body is not JSON"),
        (
            b"name=pulse.bpm&value=1",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            "application/json",
        ),
        (b"x" * (MAX_BODY + 1), {}, 413, f"body of {MAX_BODY + 1} bytes; at most {MAX_BODY}"),
        (b"{}", {"Origin": "http://evil.example"}, 403, "cross-site request from http://evil.example"),
        (b"{}", {"Host": "rebound.example:80"}, 403, "requests for host rebound.example:80 refused"),
    ]
    for raw, headers, code, error in cases:
        got, _, answer = rig.request("POST", "/api/param", headers=headers, raw=raw)
        assert got == code, (raw[:40], answer)
        assert error in json.loads(answer)["error"]
    assert rig.drain() == []
    for path in ("/", "/api/state", "/thumbnail.jpg", "/events"):  # nor may it read or watch
        got, _, answer = rig.request("GET", path, headers={"Host": "rebound.example"})
        assert got == 403 and "refused" in json.loads(answer)["error"]
    # the same site, by name or number, is fine
    origin = f"http://127.0.0.1:{rig.server.port}"
    assert rig.request("POST", "/api/blackout", {"value": 0}, headers={"Origin": origin})[0] == 202
    assert (
        rig.request("POST", "/api/blackout", {"value": 0}, headers={"Host": f"localhost:{rig.server.port}"})[
            0
        ]
        == 202
    )


def test_a_huge_body_is_refused_unread(rig: Rig) -> None:
    """413 from the Content-Length alone: 50 MB announced, a few bytes sent, the answer is at once."""
    conn = http.client.HTTPConnection(*rig.server.address, timeout=5)
    conn.putrequest("POST", "/api/param")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(50 * 2**20))
    conn.endheaders(b'{"name": ')
    r = conn.getresponse()
    assert r.status == 413 and "at most 16384" in json.loads(r.read())["error"]
    conn.close()
    got, _, answer = rig.request("POST", "/api/param", headers={"Content-Length": "-1"}, raw=b"")
    assert got in (400, 411), answer


def test_methods(rig: Rig) -> None:
    code, headers, _ = rig.request("GET", "/api/param")
    assert code == 405 and headers["Allow"] == "POST"
    code, headers, _ = rig.request("POST", "/api/state", {})
    assert code == 405 and headers["Allow"] == "GET, HEAD"
    assert rig.request("POST", "/status", {})[0] == 501  # the status routes take no body


def test_wrong_password_is_401_and_changes_nothing(tmp_path: Path) -> None:
    r = Rig(tmp_path, password="front-desk")
    try:
        assert r.request("POST", "/api/blackout", {"value": 1})[0] == 202
        r.drain()
        r.password = "guess"
        for method, path, body in (("GET", "/", None), ("POST", "/api/blackout", {"value": 1})):
            code, headers, answer = r.request(method, path, body)
            assert code == 401 and headers["WWW-Authenticate"].startswith("Basic")
            assert json.loads(answer) == {"error": "password required (HTTP basic auth)"}
        r.password = ""
        assert r.request("GET", "/events")[0] == 401
        assert r.drain() == []
    finally:
        r.server.close()


# ---------------------------------------------------------------------- events and the picture
def read_events(rig: Rig, n: int, between=None) -> list[dict]:
    conn = http.client.HTTPConnection(*rig.server.address, timeout=5)
    conn.request("GET", "/events")
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    events: list[dict] = []
    try:
        while len(events) < n:
            line = r.fp.readline().decode()
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if between is not None:
                    between(len(events))
    finally:
        conn.close()
    return events


def test_events_carry_the_status_and_changed_values(rig: Rig) -> None:
    def change(i: int) -> None:
        if i == 1:
            rig.registry.set("engine.blackout", 1.0, "osc")
            rig.scene = "pulse"

    events = read_events(rig, 3, change)
    assert set(events[0]["values"]) == {s.name for s in rig.registry.specs()}  # everything first
    assert events[0]["status"]["scene"] == "mirror" and events[0]["thumb"] == 0
    assert events[1]["values"] == {"engine.blackout": 1.0} and events[1]["status"]["scene"] == "pulse"
    assert events[2]["values"] == {}


def test_at_most_a_few_event_streams(rig: Rig) -> None:
    conns = []
    try:
        for _ in range(MAX_STREAMS):
            c = http.client.HTTPConnection(*rig.server.address, timeout=5)
            c.request("GET", "/events")
            r = c.getresponse()  # held: a response collected closes its socket, which ends the stream
            assert r.status == 200
            conns.append(r)
        code, headers, _ = rig.request("GET", "/events")
        assert code == 503 and headers["Retry-After"] == "5"
        assert rig.request("GET", "/status")[0] == 200
    finally:
        for c in conns:
            c.close()
    end = time.monotonic() + 5  # a closed panel's stream ends at its next write: its slot is free again
    while rig.panel.streams:
        assert time.monotonic() < end
        time.sleep(0.02)
    assert len(read_events(rig, 1)) == 1


def gradient(w: int = 640, h: int = 360) -> np.ndarray:
    x = np.linspace(0, 255, w, dtype=np.float32)
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = x[None, :].astype(np.uint8)  # red grows to the right
    rgb[..., 2] = 200
    return rgb


def test_thumbnail_is_the_latest_frame_as_a_small_jpeg(rig: Rig) -> None:
    thumb = rig.panel.thumbnail
    thumb.put(np.zeros((360, 640, 3), np.uint8))
    thumb.put(gradient())  # latest wins
    code, headers, body = rig.request("GET", "/thumbnail.jpg")
    assert code == 200 and headers["Content-Type"] == "image/jpeg" and headers["X-Frame"] == "2"
    bgr = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert bgr.shape == (180, 320, 3)
    assert bgr[:, :20, 2].mean() < 30 and bgr[:, -20:, 2].mean() > 220  # red on the right, as sent
    assert abs(bgr[..., 0].mean() - 200) < 8  # blue everywhere
    assert len(body) < 20_000


def test_no_frame_yet_is_a_503(rig: Rig) -> None:
    t0 = time.monotonic()
    code, headers, body = rig.request("GET", "/thumbnail.jpg")
    assert (
        code == 503
        and headers["Retry-After"] == "1"
        and json.loads(body)["error"] == "no frame presented yet"
    )
    assert 1.5 < time.monotonic() - t0 < 5  # it waited for one


def test_thumbnail_reads_back_only_while_wanted_and_at_its_rate() -> None:
    now = [100.0]
    thumb = Thumbnail(interval_s=0.5, now=lambda: now[0])
    assert not thumb.due()  # nobody looks: no read-back
    thumb.want()
    assert thumb.due()
    kept: list[float] = []
    thumb.tap(lambda rgb: kept.append(float(rgb.mean())))(gradient(64, 36))
    assert kept and thumb.read_backs == 1
    assert not thumb.due()  # within the interval
    now[0] += 0.5
    assert thumb.due()
    now[0] += WANT_FOR_S  # the panel closed
    assert not thumb.due()


def test_encode_jpeg_keeps_small_frames_and_the_aspect() -> None:
    small = cv2.imdecode(np.frombuffer(encode_jpeg(gradient(160, 90)), np.uint8), cv2.IMREAD_COLOR)
    assert small.shape == (90, 160, 3)
    tall = cv2.imdecode(np.frombuffer(encode_jpeg(gradient(1080, 1920), 320), np.uint8), cv2.IMREAD_COLOR)
    assert tall.shape == (569, 320, 3)


def test_a_failing_status_is_a_500_and_the_panel_goes_on(rig: Rig) -> None:
    rig.fail = RuntimeError("watchdog lock poisoned")
    code, _, body = rig.request("GET", "/api/state")
    assert code == 500
    assert json.loads(body) == {"error": "/api/state failed: RuntimeError: watchdog lock poisoned"}
    event = read_events(rig, 1)[0]  # the stream says so, and goes on
    assert event["status"] == {"ok": False, "error": "status failed: RuntimeError: watchdog lock poisoned"}
    assert rig.request("POST", "/api/blackout", {"value": 1})[0] == 202
    rig.fail = None
    assert rig.request("GET", "/api/state")[0] == 200
