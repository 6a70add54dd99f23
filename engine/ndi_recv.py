"""A small NDI receiver: is the engine's source on the network, at what rate and latency?

    python -m engine.ndi_recv [NAME] [--ips 127.0.0.1] [--seconds 10] [--frames N] [--json PATH]
                              [--thumbs N] [--thumb-size 32x18]

For whoever sets up the rig (no OBS at hand) and for the tests: it finds the first source whose
name contains NAME, receives every frame for a while (recv_capture_v2 queues them, none is lost to
a slow reader), and prints frames/s, the sizes seen, and latency as reception time minus the
frame's timecode, which engine.ndi sets to the instant the frame was presented (same machine, or
clocks in sync). `--ips` are addresses asked directly, which finds a sender where no mDNS daemon
runs (127.0.0.1: this machine). SIGTERM ends it early and still writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.ndi import load_ndi

ROOT = Path(__file__).resolve().parents[1]


def find_source(ndi: Any, name: str, ips: str, timeout_s: float) -> Any:
    """The first source whose NDI name contains `name` ("" = any), or an error after timeout_s."""
    create = ndi.FindCreate()
    create.extra_ips = ips
    finder = ndi.find_create_v2(create)
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    try:
        while time.monotonic() < deadline:
            ndi.find_wait_for_sources(finder, 200)
            sources = ndi.find_get_current_sources(finder)
            seen = [s.ndi_name for s in sources]
            for s in sources:
                if name in s.ndi_name:
                    # the finder owns the source's strings: copy them before it goes
                    found = ndi.Source()
                    found.ndi_name, found.url_address = s.ndi_name, s.url_address
                    return found
    finally:
        ndi.find_destroy(finder)
    raise TimeoutError(f"no NDI source named like '{name}' within {timeout_s:g} s (seen: {seen or 'none'})")


def thumbnail(rgbx: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Mean colour per cell of a grid (w × h), RGB: enough to tell one picture from another."""
    import cv2

    return cv2.resize(rgbx, size, interpolation=cv2.INTER_AREA)[..., :3]  # 4 channels: 7× faster


def summarize(frames: list[dict]) -> dict:
    if not frames:
        return {"frames": 0}
    lat = np.array([f["latency_ms"] for f in frames])
    span = frames[-1]["recv_s"] - frames[0]["recv_s"]
    return {
        "frames": len(frames),
        "fps": round((len(frames) - 1) / span, 2) if span > 0 else 0.0,
        "sizes": sorted({f"{f['w']}x{f['h']}" for f in frames}),
        "declared_fps": sorted({f["fps"] for f in frames}),
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 2),
            "p95": round(float(np.percentile(lat, 95)), 2),
            "max": round(float(lat.max()), 2),
        },
    }


def receive(
    name: str, ips: str, seconds: float, max_frames: int, thumbs: int, thumb_size: tuple[int, int]
) -> dict:
    ndi = load_ndi()
    if thumbs:
        thumbnail(np.zeros((2, 2, 4), np.uint8), (1, 1))  # import cv2 now, not while frames queue up
    source = find_source(ndi, name, ips, timeout_s=15.0)
    create = ndi.RecvCreateV3()
    create.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
    create.bandwidth = ndi.RECV_BANDWIDTH_HIGHEST
    recv = ndi.recv_create_v3(create)
    ndi.recv_connect(recv, source)
    print(f"connected to {source.ndi_name}", flush=True)
    frames: list[dict] = []
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    end = time.monotonic() + seconds
    try:
        while not stop["now"] and time.monotonic() < end and (not max_frames or len(frames) < max_frames):
            kind, video, audio, meta = ndi.recv_capture_v2(recv, 100)
            if kind != ndi.FRAME_TYPE_VIDEO:
                if kind == ndi.FRAME_TYPE_AUDIO:
                    ndi.recv_free_audio_v2(recv, audio)
                elif kind == ndi.FRAME_TYPE_METADATA:
                    ndi.recv_free_metadata(recv, meta)
                continue
            now = time.time()
            try:
                data = video.data
                f = {
                    "recv_s": now,
                    "timecode": video.timecode,  # engine.ndi: when the frame was presented, 100 ns
                    "latency_ms": (now - video.timecode * 1e-7) * 1000.0,
                    "w": video.xres,
                    "h": video.yres,
                    "fps": video.frame_rate_N / max(1, video.frame_rate_D),
                    # every 8th pixel: a full-frame mean would slow this reader below 60 fps
                    "mean_rgb": [round(float(v), 2) for v in data[::8, ::8, :3].mean(axis=(0, 1))],
                }
                if len(frames) < thumbs:
                    f["thumb"] = thumbnail(data, thumb_size).tolist()
            finally:
                ndi.recv_free_video_v2(recv, video)
            frames.append(f)
    finally:
        ndi.recv_destroy(recv)
    return {"source": source.ndi_name, "summary": summarize(frames), "frames": frames}


def spawn(name: str, json_path: Path, seconds: float, frames: int = 0, thumbs: int = 0) -> subprocess.Popen:
    """This receiver in another process (a real NDI connection, not a thread sharing the runtime):
    for the tests and engine.ndi_bench. Stop it early with .terminate() (SIGTERM): the JSON is still
    written."""
    cmd = [
        sys.executable,
        "-m",
        "engine.ndi_recv",
        name,
        "--seconds",
        f"{seconds:g}",
        "--json",
        str(json_path),
    ]
    cmd += ["--frames", str(frames), "--thumbs", str(thumbs)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.ndi_recv", description=__doc__.split("\n")[0])
    ap.add_argument("name", nargs="?", default="", help="a part of the source's name (default: the first)")
    ap.add_argument("--ips", default="127.0.0.1", help="addresses to ask directly, comma-separated")
    ap.add_argument("--seconds", type=float, default=10.0, help="receive this long")
    ap.add_argument("--frames", type=int, default=0, help="stop after this many frames (0 = no limit)")
    ap.add_argument("--json", type=Path, help="write every frame's figures and the summary here")
    ap.add_argument("--thumbs", type=int, default=0, help="keep a thumbnail of the first N frames")
    ap.add_argument("--thumb-size", default="32x18", help="thumbnail grid, WxH")
    args = ap.parse_args(argv)
    tw, th = (int(v) for v in args.thumb_size.lower().split("x"))
    try:
        result = receive(args.name, args.ips, args.seconds, args.frames, args.thumbs, (tw, th))
    except (TimeoutError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(result))
    s = result["summary"]
    if not s["frames"]:
        print(f"{result['source']}: no frames received", file=sys.stderr)
        return 1
    lat = s["latency_ms"]
    print(
        f"{result['source']}: {s['frames']} frames, {s['fps']} frames/s, {', '.join(s['sizes'])} "
        f"(declared {s['declared_fps']} fps), latency p50 {lat['p50']} ms p95 {lat['p95']} ms "
        f"max {lat['max']} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
