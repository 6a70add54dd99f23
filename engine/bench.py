"""Loop benchmark: the same input realtime and offline in one run.

    python -m engine.bench [--source demo] [--frames 300] [--size 1280x720] [--json PATH]
                           [--plots DIR | --no-plots] [--compare OLD.json] [--record]
    python -m engine.bench --response [--steps 5] [--hold 2.5]     (response latency, engine.bench_response)
    python -m engine.bench --compare OLD.json NEW.json               (two saved runs; runs nothing)

Offline processes every frame in turn (perception → scene → latent →
generator → render), so its fps is the cost of one full pass. Realtime runs
the stages concurrently with latest-wins hand-offs, so presented fps is set by
the render loop and fresh images per second by the slowest stage. Both are
printed, with perception Hz, capture→present latency and frame pacing, and where the median
fresh image's latency went, leg by leg (path_*). --record runs both while recording an mp4 (into
a temporary folder, deleted), to measure what `--record` costs the loop.

Every run also writes PNG plots next to the JSON (or into --plots DIR; runs/bench/ without
either): the realtime latency histogram and the frame times in order, or for --response the
image's change after each step. --compare OLD.json prints each key's change against that run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from engine import bench_report as report
from engine.app import App
from engine.config import load_config
from engine.metrics import LATENCY_PATH
from engine.procstat import thread_cpu

DEFAULT_PLOTS = Path("runs") / "bench"


# Which stage a thread works for, by the first match on its name (engine.procstat.thread_cpu)
STAGE_THREADS = (
    ("perception", ("perception", "mediapipe")),
    ("generator", ("generator",)),
    ("render", ("MainThread", "llvmpipe")),  # the render loop, and Mesa's rasteriser threads
    ("source", ("source", "camera")),
    ("recorder", ("recorder", "ffmpeg")),  # the encoder process with --record
)


def cpu_by_stage(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Cores each stage kept busy between two thread_cpu() snapshots (threads born meanwhile count
    from zero; child processes included: the perception child names itself), "other" for the rest
    (OSC, HTTP, logging) and the total."""
    cores: dict[str, float] = {name: 0.0 for name, _ in STAGE_THREADS} | {"other": 0.0}
    for tid, (name, cpu) in after.items():
        used = cpu - before.get(tid, (name, 0.0))[1]
        stage = next((s for s, prefixes in STAGE_THREADS if name.startswith(prefixes)), "other")
        cores[stage] += used / max(seconds, 1e-9)
    cores["total"] = sum(cores.values())
    return {k: round(v, 2) for k, v in cores.items()}


class CpuWatch:
    """Per-stage CPU of a run, measured once it is warm (from the 30th presented frame, or the first
    third, to the last): the profile of where the cores go, next to where the milliseconds go."""

    def __init__(self, app: App, frames: int) -> None:
        self.app, self.frames = app, frames
        self.result: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, name="bench-cpu", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        app, start, t0 = self.app, None, 0.0
        while not app.stop.is_set() and app.presented < self.frames - 2:
            if start is None and app.presented >= min(30, self.frames // 3):
                start, t0 = thread_cpu(), time.perf_counter()
            time.sleep(0.02)
        if start is not None:
            self.result = cpu_by_stage(start, thread_cpu(), time.perf_counter() - t0)

    def join(self) -> dict[str, float]:
        self._thread.join(timeout=5)
        return self.result


def run_samples(
    source: str, frames: int, size: str, offline: bool, extra: dict, config: Path | None = None
) -> tuple[dict, dict[str, list[float]]]:
    """(the --stats document, with `cpu_cores` per stage when realtime, each presented frame's latency
    and frame time in ms, in order)."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        if extra.get("record") is True:
            extra = {**extra, "record": str(Path(tmp) / "bench.mp4")}
        run = {
            "source": source,
            "headless": True,
            "offline": offline,
            "frames": frames,
            "size": size,
            "stats": str(stats),
            **extra,
        }
        app = App(load_config(config, {"run": run}))
        watch = None if offline else CpuWatch(app, frames)  # offline, every stage runs on one thread
        app.run()
        m = app.metrics
        samples = {"latency_ms": list(m.latency_ms), "frame_ms": list(m.frame_ms)}
        cpu = {} if watch is None else {"cpu_cores": watch.join()}
        return {**json.loads(stats.read_text()), **cpu}, samples


def run_mode(
    source: str, frames: int, size: str, offline: bool, extra: dict, config: Path | None = None
) -> dict:
    return run_samples(source, frames, size, offline, extra, config)[0]


def row(mode: str, s: dict) -> dict:
    hz = s["stages_hz"]
    fresh = s["fps_avg"] * (1 - s["repeated_frames"] / max(1, s["presented"]))
    return {
        "mode": mode,
        "presented_fps": s["fps_avg"],  # the whole run's average: a benchmark's figure, not the HUD's
        "fresh_images_per_s": round(fresh, 2),
        "perception_hz": hz.get("perception", 0.0),
        "generator_hz": hz.get("generator", 0.0),
        "perception_ms_p50": s["stages_ms"].get("perception", {}).get("p50", 0.0),
        "generator_ms_p50": s["stages_ms"].get("generator", {}).get("p50", 0.0),
        "render_ms_p50": s["stages_ms"].get("render", {}).get("p50", 0.0),
        "latency_ms_p50": s["latency_ms"]["p50"],
        "latency_ms_p95": s["latency_ms"]["p95"],
        "frame_ms_p50": s["frame_time_ms"]["p50"],
        "frame_ms_p99": s["frame_time_ms"]["p99"],
        "repeated": s["repeated_frames"],
        "dropped_source_frames": s["dropped_frames"],
        "provider": s.get("provider", "?"),
        # where the median fresh image's latency went, leg by leg (engine.metrics.LATENCY_PATH)
        **{f"path_{k}_ms_p50": s.get("latency_path_ms", {}).get(k, {}).get("p50", 0.0) for k in LATENCY_PATH},
        # cores each stage's threads kept busy (MediaPipe's count as perception, llvmpipe's as render)
        **{f"cpu_{k}_cores": v for k, v in s.get("cpu_cores", {}).items()},
    }


def loop_bench(args: argparse.Namespace, plots: Path | None) -> dict:
    rec = {"record": True} if args.record else {}
    stats_off, off_samples = run_samples(args.source, args.frames, args.size, True, rec, args.config)
    stats_rt, rt_samples = run_samples(
        args.source, args.frames, args.size, False, {"fps": args.fps, **rec}, args.config
    )
    off, rt = row("offline", stats_off), row("realtime", stats_rt)
    ratio = rt["presented_fps"] / off["presented_fps"] if off["presented_fps"] else 0.0
    fresh_ratio = rt["fresh_images_per_s"] / off["presented_fps"] if off["presented_fps"] else 0.0
    keys = list(off)[1:]
    print(f"{'':24s}{'offline':>12s}{'realtime':>12s}")
    for k in keys:
        print(f"{k:24s}{off[k]!s:>12s}{rt[k]!s:>12s}")
    print(f"realtime/offline presented fps ratio: {ratio:.2f}   fresh images ratio: {fresh_ratio:.2f}")
    result = {
        "offline": off,
        "realtime": rt,
        "ratio_presented": round(ratio, 2),
        "ratio_fresh": round(fresh_ratio, 2),
        "frames": args.frames,
        "size": args.size,
        "record": bool(args.record),
    }
    if plots is not None:
        paths = report.plot_paths(plots)
        title = f"{args.source} {args.size}, {args.frames} frames, {rt['provider']}"
        title += ", recording" if args.record else ""
        report.latency_histogram(rt_samples["latency_ms"], paths["latency"], f"realtime latency: {title}")
        series = {"realtime": rt_samples["frame_ms"], "offline (one full pass)": off_samples["frame_ms"]}
        report.frame_time_plot(series, paths["frames"], args.fps, f"frame times: {title}")
        report.latency_path_plot(stats_rt.get("latency_path_ms", {}), paths["path"], f"latency path: {title}")
        result["plots"] = {k: str(paths[k]) for k in ("latency", "frames", "path")}
    return result


def response_bench(args: argparse.Namespace, plots: Path | None) -> dict:
    from engine.bench_response import measure_response

    resp, curves = measure_response(args.steps, args.hold, args.size, args.fps, args.config)
    print(
        f"response to a head tilt ({resp['steps_seen']} of {resp['steps']} steps seen, "
        f"{resp['presented_fps']} fps, perception {resp['perception_hz']} Hz):"
    )
    for name, prefix in (("image", ""), ("latent", "latent_"), ("head_roll", "feature_")):
        print(
            f"  {name:10s} starts to move {resp[prefix + 'start_ms']!s:>7s} ms   "
            f"half way {resp[prefix + 'half_ms']!s:>7s} ms"
        )
    result = {"response": resp, "size": args.size}
    if plots is not None:
        path = report.plot_paths(plots)["response"]
        report.response_plot(curves, resp, path)
        result["plots"] = {"response": str(path)}
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="demo")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=float, default=30.0, help="realtime render cap")
    ap.add_argument(
        "--config", type=Path, help="TOML settings for both runs (e.g. [perception] pose_every = 2)"
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--record", action="store_true", help="record an mp4 during both runs (deleted after)")
    ap.add_argument("--plots", type=Path, help="folder for the PNG plots (default: next to --json)")
    ap.add_argument("--no-plots", action="store_true", help="write no plots")
    ap.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="OLD.json: print each key's change against this run; OLD.json NEW.json: compare two files",
    )
    ap.add_argument("--response", action="store_true", help="measure response latency to a head tilt")
    ap.add_argument("--steps", type=int, default=5, help="--response: steps measured")
    ap.add_argument("--hold", type=float, default=2.5, help="--response: seconds each pose holds")
    args = ap.parse_args(argv)
    try:
        compare = [report.load_result(p) for p in args.compare or ()]
    except report.ReportError as e:
        print(f"error: --compare {e}", file=sys.stderr)
        return 2
    if len(compare) > 2:
        ap.error("--compare takes OLD.json, or OLD.json NEW.json")
    if len(compare) == 2:
        print(report.format_compare(*compare, str(args.compare[0]), str(args.compare[1])))
        return 0
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    plots = None
    if not args.no_plots:
        folder = args.plots or (args.json.parent if args.json else DEFAULT_PLOTS)
        plots = folder / (args.json.stem if args.json else "bench")
    result = response_bench(args, plots) if args.response else loop_bench(args, plots)
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if plots is not None:
        print("plots: " + "  ".join(result.get("plots", {}).values()))
    if compare:
        print(report.format_compare(compare[0], result, str(args.compare[0]), "this run"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
