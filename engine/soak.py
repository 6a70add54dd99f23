"""Soak: run the real installation for a long time and watch it age.

    python -m engine.soak --minutes 60 --out soak/ [--source demo] [--scene mirror] [--interval 5]
        [--scenario plain|visitors|scenes|osc[,...]] [--window] [-- extra run_installation args]

A piece that runs ten hours a day for months fails by creeping: memory that grows a few MB an hour,
threads or file handles that leak on every visitor, frame rate or latency that drift. None of that
shows in a test that runs for seconds, so this runs `run_installation.py` as a child process, exactly
as a gallery does, and samples it from the outside every few seconds: RSS, threads and open files
from /proc/<pid>, CPU, and fps and latency from the engine's GET /status (or, on an engine without
--http, fps from its OSC out and latency from its --stats at exit). The CSV is written row by row,
so a soak that is killed still leaves its data; the child dying is a row and a line in the summary.

Scenarios speed up what a season brings: `visitors` (the demo source with people coming and going,
`demo:visits`), `scenes` (a scene change every minute over OSC, plus preset save/load), `osc` (a
controller sending 100 parameter changes a second over real UDP). Combine them with commas.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from engine import procstat
from engine.soak_drive import OscListener, Scenarios, free_port
from engine.soak_report import FIELDS, default_warmup, plot, summarize

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("plain", "visitors", "scenes", "osc")
VISITS_SPEC = "demo:visits=40/20"  # a visitor a minute: 40 s in front of the piece, 20 s empty room
STOP_TIMEOUT_S = 30.0  # SIGTERM → the engine finishes recording and writes stats; then SIGKILL
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _child_rss_mb(pid: int) -> list[float]:
    out = []
    for kid in procstat.children_of(pid):
        try:
            out.append(procstat.sample(kid, children=False).rss_mb)
        except ProcessLookupError:
            continue
    return out


def read_proc(pid: int) -> tuple[float, int, int, float]:
    """RSS in MB (its child processes' added in), threads, open file descriptors and CPU seconds so
    far, from /proc/<pid>. Raises OSError once the process is gone."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    if "VmRSS" not in fields:  # a zombie: exited, not yet reaped
        raise ProcessLookupError(pid)
    rss_mb = int(fields["VmRSS"].split()[0]) / 1024.0
    rss_mb += sum(_child_rss_mb(pid))  # the perception child (and ffmpeg): its leak is the piece's leak
    threads = int(fields["Threads"])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    stat = Path(f"/proc/{pid}/stat").read_text()
    after_name = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    cpu_s = (int(after_name[11]) + int(after_name[12])) / CLK_TCK  # utime, stime
    return rss_mb, threads, fds, cpu_s


def get_status(url: str | None) -> dict | None:
    if not url:
        return None
    try:
        with urllib.request.urlopen(url, timeout=2.0) as r:  # noqa: S310 (our own loopback port)
            return json.loads(r.read().decode("utf-8"))
    except (OSError, ValueError):
        return None


def engine_has_http() -> bool:
    """Whether this checkout's run_installation.py has --http (GET /status); older ones do not."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "--http" in r.stdout


def stop_child(proc: subprocess.Popen, timeout_s: float = STOP_TIMEOUT_S) -> tuple[int, str]:
    """SIGTERM to the child's PID, SIGKILL after `timeout_s`; its exit code and how it ended."""
    if proc.poll() is not None:
        return proc.returncode, "had exited by itself"
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout_s), "stopped with SIGTERM"
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(), f"did not stop within {timeout_s:g} s of SIGTERM: SIGKILLed"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m engine.soak", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, required=True, help="how long to run the installation")
    ap.add_argument("--out", required=True, help="folder for soak.csv, soak.png, summary.txt, engine.out")
    ap.add_argument("--source", default="demo", help="as run_installation --source (default: demo)")
    ap.add_argument("--scene", default="mirror")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default: 5)")
    ap.add_argument(
        "--scenario", default="plain", help=f"one or more of {', '.join(SCENARIOS)}, comma-separated"
    )
    ap.add_argument("--warmup", type=float, help="seconds left out of the RSS slope (default: 10%%, ≥ 2 min)")
    ap.add_argument("--window", action="store_true", help="open a window instead of rendering headless")
    ap.add_argument("extra", nargs="*", help="after --: more run_installation.py arguments")
    args = ap.parse_args(argv)
    args.scenarios = {s.strip() for s in args.scenario.split(",") if s.strip()}
    bad = args.scenarios - set(SCENARIOS)
    if bad or not args.scenarios:
        ap.error(f"--scenario {args.scenario!r}: choose from {', '.join(SCENARIOS)}")
    if not (args.minutes > 0 and args.interval > 0):
        ap.error("--minutes and --interval must be above 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    duration = args.minutes * 60.0
    warmup = args.warmup if args.warmup is not None else default_warmup(duration)
    source = VISITS_SPEC if "visitors" in args.scenarios and args.source == "demo" else args.source
    listener = OscListener()
    osc_in = free_port()
    cmd = [sys.executable, str(ROOT / "run_installation.py"), "--scene", args.scene, "--source", source]
    cmd += ["--osc-in", f"127.0.0.1:{osc_in}", "--osc-out", f"127.0.0.1:{listener.port}"]
    cmd += ["--stats", str(out / "stats.json")] + ([] if args.window else ["--headless"])
    status_url = None
    if engine_has_http():
        http = free_port()
        cmd += ["--http", f"127.0.0.1:{http}"]
        status_url = f"http://127.0.0.1:{http}/status"
    cmd += args.extra
    env = {**os.environ, "XDG_DATA_HOME": str(out / "data")}  # presets saved by the scenario stay here
    print(f"soak: {args.minutes:g} min, sampling every {args.interval:g} s into {out}", flush=True)
    print("soak: " + " ".join(cmd), flush=True)
    (out / "command.txt").write_text(" ".join(cmd) + "\n")
    title = f"soak: {args.scene}, {source}, {args.scenario}"
    for sig in (signal.SIGTERM, signal.SIGHUP):  # stopped from outside: still stop the engine, still report
        signal.signal(sig, _interrupt)
    with open(out / "engine.out", "wb") as engine_out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=engine_out, stderr=subprocess.STDOUT)
    drive = Scenarios(args.scenarios, ("127.0.0.1", osc_in), args.scene)
    sampler = Sampler(proc, status_url, listener, drive)
    clean = False
    try:
        drive.start()
        with open(out / "soak.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            died = sampler.run(
                duration,
                args.interval,
                writer,
                f,
                lambda: plot(sampler.rows, out / "soak.png", title, warmup),
            )
        code, how = stop_child(proc)
        outcome = f"engine (pid {proc.pid}) {how}, exit code {code}"
        clean = died is None and code == 0
        if died is not None:
            outcome = f"ENGINE DIED after {died:.0f} s with exit code {code}"
    except KeyboardInterrupt:
        code, how = stop_child(proc)
        outcome = f"soak interrupted; engine (pid {proc.pid}) {how}, exit code {code}"
    finally:
        drive.stop()
        listener.close()
        if proc.poll() is None:  # an error in the soak itself: never leave the engine running
            stop_child(proc)
    stats = _read_json(out / "stats.json")
    lines = summarize(sampler.rows, warmup, outcome, stats, listener.events)
    if sampler.rows:
        plot(sampler.rows, out / "soak.png", title, warmup, stats)
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)
    return 0 if clean else 1


class Sampler:
    """Samples the child from outside every `interval` seconds until the time is up or it dies."""

    PROGRESS_EVERY_S = 600.0  # a progress line and a fresh plot every 10 minutes of a long soak

    def __init__(
        self, proc: subprocess.Popen, status_url: str | None, listener: OscListener, drive: Scenarios
    ):
        self.proc, self.status_url, self.listener, self.drive = proc, status_url, listener, drive
        self.rows: list[dict] = []  # kept here, so an interrupted soak still reports what it saw
        self._last_cpu: tuple[float, float] | None = None

    def run(
        self, duration: float, interval: float, writer: csv.DictWriter, f: TextIO, replot: Callable[[], None]
    ) -> float | None:
        """Sample until `duration`, flushing each row; returns when the child died (s), or None."""
        t0 = time.monotonic()
        k, next_progress = 1, self.PROGRESS_EVERY_S
        while True:
            wake = t0 + k * interval
            while (left := wake - time.monotonic()) > 0 and self.proc.poll() is None:
                time.sleep(min(left, 0.2))
            t = time.monotonic() - t0
            row = self.sample(t)
            writer.writerow(row)
            f.flush()
            self.rows.append(row)
            if row["alive"] == 0:
                return t
            if t >= next_progress:
                next_progress += self.PROGRESS_EVERY_S
                print(f"soak: {t / 60:.0f} min, RSS {row['rss_mb']} MB, fps {row.get('fps')}", flush=True)
                replot()
            if t >= duration:
                return None
            k += 1

    def sample(self, t: float) -> dict:
        row: dict = {"t_s": round(t, 2), "enters": self.listener.enters, "leaves": self.listener.leaves}
        row["osc_sent"] = self.drive.sent
        try:
            if self.proc.poll() is not None:
                raise ProcessLookupError(self.proc.pid)
            rss, threads, fds, cpu_s = read_proc(self.proc.pid)
        except OSError:
            return {**row, "alive": 0, "note": f"engine exited with code {self.proc.wait()}"}
        now = time.monotonic()
        last = self._last_cpu
        cpu = round(100.0 * (cpu_s - last[1]) / (now - last[0]), 1) if last else None
        self._last_cpu = (now, cpu_s)
        row.update(alive=1, rss_mb=round(rss, 1), threads=threads, fds=fds, cpu_pct=cpu)
        status = get_status(self.status_url)
        if status:
            lat = status.get("latency_ms") or {}
            row.update(fps=status.get("fps"), latency_p50_ms=lat.get("p50"), latency_p95_ms=lat.get("p95"))
            row["status_ok"] = int(bool(status.get("ok", True)))
        else:  # an engine without GET /status: its /engine/fps over OSC
            row["fps"] = None if self.listener.fps is None else round(self.listener.fps, 2)
        return row


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
