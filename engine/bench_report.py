"""The bench's report: plots of one run and the change between two runs.

A percentile hides the shape: a latency histogram shows whether p95 is a tail or a second hump,
and frame times in order show whether the hitches are spread out or come in bursts (a GC pause, the
generator waking). The comparison is what a change to the loop is judged by, so it reads the same
JSON the bench writes, key by key, and says for each whether the change is for the better.

    python -m engine.bench --compare OLD.json NEW.json     (or: python -m engine.bench_report OLD NEW)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state; saves through Agg

PLOT_PX = (960, 540)  # width, height of every plot, in pixels
DPI = 100

HIGHER_BETTER = ("fps", "_per_s", "_hz", "ratio")
LOWER_BETTER = ("latency", "_ms", "repeated", "dropped")
NOT_COMPARED = frozenset({"plots"})  # where this run's files went: not a figure of the run


class ReportError(ValueError):
    """A JSON file that cannot be compared; the message names the file."""


# ------------------------------------------------------------------ comparison
def load_result(path: str | Path) -> dict:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReportError(f"{p}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise ReportError(f"{p}: not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ReportError(f"{p}: expected a JSON object (the bench's --json), got {type(doc).__name__}")
    return doc


def flatten(doc: dict, prefix: str = "") -> dict[str, object]:
    """Nested objects as dotted keys ("realtime.presented_fps"); lists (per-step figures) and the
    plots' paths are left out."""
    out: dict[str, object] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if name in NOT_COMPARED:
            continue
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif not isinstance(value, list):
            out[name] = value
    return out


def direction(key: str) -> int:
    """+1 where higher is better (rates), -1 where lower is (times, latencies, losses), 0 unknown."""
    leaf = key.rsplit(".", 1)[-1]
    if any(s in leaf for s in HIGHER_BETTER):
        return 1
    if any(s in leaf for s in LOWER_BETTER):
        return -1
    return 0


def _number(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


@dataclass(frozen=True)
class Change:
    key: str
    old: object
    new: object
    delta: float | None  # None: not both numbers
    relative: float | None  # None: not numbers, or old is 0
    verdict: str  # "better", "worse", "same", "changed" (no direction known or not numbers), ""

    def line(self, width: int) -> str:
        if self.delta is None:
            return f"{self.key:{width}s} {self.old!s:>10.10s} → {self.new!s:<10.10s} {self.verdict}"
        rel = "n/a" if self.relative is None else f"{self.relative:+.1%}"
        hint = {1: " (higher is better)", -1: " (lower is better)"}.get(direction(self.key), "")
        verdict = f"{self.verdict}{hint}" if self.verdict in ("better", "worse") else self.verdict
        return (
            f"{self.key:{width}s} {_fmt(self.old):>10s} → {_fmt(self.new):<10s} "
            f"{self.delta:+10.4g} {rel:>8s}  {verdict}"
        )


def _fmt(v: object) -> str:
    n = _number(v)
    return f"{n:.4g}" if n is not None else str(v)


def compare(old: dict, new: dict) -> tuple[list[Change], list[str], list[str]]:
    """(a change for every key in both, keys only in old, keys only in new), in the new file's order."""
    a, b = flatten(old), flatten(new)
    changes = []
    for key in (k for k in b if k in a):
        x, y = _number(a[key]), _number(b[key])
        if x is None or y is None:
            changes.append(Change(key, a[key], b[key], None, None, "same" if a[key] == b[key] else "changed"))
            continue
        delta = y - x
        rel = delta / abs(x) if x else None
        sign = direction(key)
        if delta == 0:
            verdict = "same"
        elif sign == 0:
            verdict = "changed"
        else:
            verdict = "better" if delta * sign > 0 else "worse"
        changes.append(Change(key, a[key], b[key], delta, rel, verdict))
    return changes, [k for k in a if k not in b], [k for k in b if k not in a]


def format_compare(old: dict, new: dict, old_name: str = "old", new_name: str = "new") -> str:
    changes, only_old, only_new = compare(old, new)
    width = max([len(c.key) for c in changes] + [24])
    short = [Path(n).stem[-10:] if n.endswith(".json") else n[-10:] for n in (old_name, new_name)]
    lines = [f"{'':{width}s} {short[0]:>10s} → {short[1]:<10s} {'change':>10s} {'rel':>8s}"]
    lines += [c.line(width) for c in changes]
    if not changes:
        lines.append("(no key in both files)")
    if only_old:
        lines.append(f"only in {old_name}: {', '.join(only_old)}")
    if only_new:
        lines.append(f"only in {new_name}: {', '.join(only_new)}")
    return "\n".join(lines)


# ------------------------------------------------------------------ plots
def _figure() -> Figure:
    return Figure(figsize=(PLOT_PX[0] / DPI, PLOT_PX[1] / DPI), dpi=DPI, layout="constrained")


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")  # never bbox_inches="tight": the size stays PLOT_PX
    return path


def latency_histogram(latency_ms: Sequence[float], path: Path, title: str = "") -> Path:
    """Capture→present latency of every presented frame, with p50 and p95 marked."""
    fig = _figure()
    ax = fig.add_subplot()
    a = np.asarray(latency_ms, float)
    if len(a):
        ax.hist(a, bins=min(60, max(10, len(a) // 10)), color="#4878a8")
        for q, style in ((50, "-"), (95, "--")):
            v = float(np.percentile(a, q))
            ax.axvline(v, color="#c03030", linestyle=style, label=f"p{q} {v:.0f} ms")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no latency samples", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("capture → present latency (ms)")
    ax.set_ylabel("presented frames")
    ax.set_title(title or f"latency, {len(a)} frames")
    return _save(fig, path)


def frame_time_plot(series: dict[str, Sequence[float]], path: Path, fps_cap: float, title: str = "") -> Path:
    """Time between presented frames, in order, for each run (label → ms), with the cap's period."""
    fig = _figure()
    ax = fig.add_subplot()
    for label, values in series.items():
        a = np.asarray(values, float)
        if len(a):
            p50, p99 = np.percentile(a, (50, 99))
            ax.plot(a, linewidth=0.8, label=f"{label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    if fps_cap > 0:
        ax.axhline(1000.0 / fps_cap, color="gray", linestyle=":", label=f"{fps_cap:g} fps cap")
    ax.set_xlabel("presented frame")
    ax.set_ylabel("frame time (ms)")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title(title or "frame times")
    return _save(fig, path)


def latency_path_plot(path_ms: dict[str, dict[str, float]], path: Path, title: str = "") -> Path:
    """Where a fresh image's latency goes: each leg's median and p95, in the order an image runs
    through them. The medians add up to about the median latency; the p95s do not add up (each
    leg's tail comes on other frames)."""
    fig = _figure()
    ax = fig.add_subplot()
    legs = [k for k in path_ms if path_ms[k]]
    x = np.arange(len(legs))
    p50 = [float(path_ms[k].get("p50", 0.0)) for k in legs]
    p95 = [float(path_ms[k].get("p95", 0.0)) for k in legs]
    ax.bar(x - 0.2, p50, width=0.4, color="#377eb8", label="median")
    ax.bar(x + 0.2, p95, width=0.4, color="#fdb462", label="p95")
    for xi, v in zip(x, p50, strict=True):
        ax.annotate(f"{v:.0f}", (xi - 0.2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [k.replace("_", " ") for k in legs], rotation=20)
    ax.set_ylabel("ms")
    ax.legend()
    ax.set_title(title or "latency path")
    ax.text(0.01, 0.97, f"medians add up to {sum(p50):.0f} ms", transform=ax.transAxes, va="top")
    return _save(fig, path)


def response_plot(curves: Sequence[tuple[np.ndarray, np.ndarray]], response: dict, path: Path) -> Path:
    """Each step's image change (share of its final change) against ms since the step."""
    fig = _figure()
    ax = fig.add_subplot()
    for i, (ms, share) in enumerate(curves):
        ax.plot(ms, share, linewidth=1.0, label=f"step {i + 1}")
    for key, style in (("start_ms", ":"), ("half_ms", "--")):
        v = response.get(key)
        if _number(v) is not None:
            ax.axvline(float(v), color="#c03030", linestyle=style, label=f"median {key} {v:.0f}")
    ax.axhline(0.5, color="gray", linewidth=0.5)
    ax.set_xlabel("ms since the step in the source")
    ax.set_ylabel("image change / final change")
    ax.legend(loc="lower right")
    ax.set_title(f"response to {response.get('source', 'a step')}")
    return _save(fig, path)


def plot_paths(stem: Path) -> dict[str, Path]:
    """Where the plots of a run whose JSON is `stem`.json go: next to it, named after it."""
    return {k: stem.with_name(f"{stem.name}-{k}.png") for k in ("latency", "frames", "path", "response")}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Compare two bench JSON files key by key.")
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    args = ap.parse_args(argv)
    try:
        print(format_compare(load_result(args.old), load_result(args.new), str(args.old), str(args.new)))
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
