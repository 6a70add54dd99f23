"""What a soak's samples say: the RSS slope after warm-up, the summary lines, the plot.

The slope is what decides whether the piece survives a season: a few MB an hour is a gigabyte a
month. Least squares over every sample after the warm-up, not first-vs-last, because RSS moves in
steps (allocator arenas, model caches) and one sample at a step's edge would mislead.
"""

from __future__ import annotations

import math
from pathlib import Path

FIELDS = (
    "t_s", "alive", "rss_mb", "threads", "fds", "cpu_pct", "fps", "latency_p50_ms", "latency_p95_ms",
    "status_ok", "enters", "leaves", "osc_sent", "note",
)  # fmt: skip


def default_warmup(duration_s: float) -> float:
    """Skip the first 10% of the run, at least 2 minutes, but never more than half of it: models,
    caches and allocator pools fill up in the first minute or two and are not a leak."""
    return min(max(0.1 * duration_s, 120.0), 0.5 * duration_s)


def rss_slope(t_s: list[float], rss_mb: list[float], warmup_s: float) -> float | None:
    """Least-squares slope of RSS in MB per hour over the samples after `warmup_s`; None with fewer
    than three usable samples. Missing values (NaN: the child had died) are left out."""
    pts = [(t, r) for t, r in zip(t_s, rss_mb, strict=True) if t >= warmup_s and math.isfinite(r)]
    if len(pts) < 3:
        return None
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mr = sum(r for _, r in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    if var == 0:
        return None
    return sum((t - mt) * (r - mr) for t, r in pts) / var * 3600.0


def _median(values: list[float]) -> float | None:
    v = sorted(x for x in values if math.isfinite(x))
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _num(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def summarize(
    rows: list[dict], warmup_s: float, outcome: str, stats: dict | None = None, events: dict | None = None
) -> list[str]:
    """The lines printed at the end (and saved to summary.txt)."""
    col = {k: [_num(r.get(k)) for r in rows] for k in FIELDS if k != "note"}
    t_end = col["t_s"][-1] if rows else 0.0
    lines = [f"soak: {t_end / 60:.1f} min, {len(rows)} samples; {outcome}"]
    rss = [x for x in col["rss_mb"] if math.isfinite(x)]
    if rss:
        slope = rss_slope(col["t_s"], col["rss_mb"], warmup_s)
        said = f"{slope:+.1f} MB/h" if slope is not None else "n/a (too few samples)"
        lines.append(
            f"RSS {rss[0]:.0f} → {rss[-1]:.0f} MB (max {max(rss):.0f}); slope {said} "
            f"after {warmup_s / 60:.1f} min warm-up (least squares)"
        )
    for key, name in (("threads", "threads"), ("fds", "open files")):
        v = [int(x) for x in col[key] if math.isfinite(x)]
        if v:
            lines.append(f"{name}: min {min(v)}, max {max(v)} (first {v[0]}, last {v[-1]})")
    fps, p50, p95, cpu = (_median(col[k]) for k in ("fps", "latency_p50_ms", "latency_p95_ms", "cpu_pct"))
    parts = [f"fps median {fps:.1f}" if fps is not None else "fps n/a"]
    if p50 is not None:
        parts.append(f"latency p50/p95 medians {p50:.0f}/{p95 or math.nan:.0f} ms")
    elif stats and stats.get("latency_ms"):
        lat = stats["latency_ms"]
        parts.append(
            f"latency p50/p95 over the run {lat.get('p50', math.nan):.0f}/{lat.get('p95', math.nan):.0f} ms"
        )
    if cpu is not None:
        parts.append(f"CPU median {cpu:.0f}%")
    lines.append(", ".join(parts))
    if rows:
        seen = ", ".join(f"{a} ×{n}" for a, n in sorted((events or {}).items())) or "no events"
        lines.append(f"OSC from the engine: {seen}; OSC sent to it: {rows[-1].get('osc_sent', 0)} messages")
    return lines


def plot(rows: list[dict], path: Path, title: str, warmup_s: float, stats: dict | None = None) -> None:
    """RSS (warm-up shaded, the fitted slope drawn), threads and files, fps, latency over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [_num(r["t_s"]) / 60 for r in rows]

    def series(k: str) -> list[float]:
        return [_num(r.get(k)) for r in rows]

    fig, ax = plt.subplots(4, 1, figsize=(10, 10), sharex=True)
    ax[0].plot(t, series("rss_mb"), color="tab:red")
    ax[0].axvspan(0, warmup_s / 60, color="0.9", label="warm-up (not in the slope)")
    fit = [
        (x, r) for x, r in zip(t, series("rss_mb"), strict=True) if x * 60 >= warmup_s and math.isfinite(r)
    ]
    slope = rss_slope([x * 60 for x, _ in fit], [r for _, r in fit], warmup_s)
    if slope is not None:
        mx, mr = sum(x for x, _ in fit) / len(fit), sum(r for _, r in fit) / len(fit)
        ends = [fit[0][0], fit[-1][0]]
        ax[0].plot(ends, [mr + slope / 60 * (x - mx) for x in ends], "k--", label=f"{slope:+.1f} MB/h")
    ax[0].legend(loc="lower right")
    ax[0].set_ylabel("RSS (MB)")
    for r in rows:
        if r.get("alive") == 0:
            for a in ax:
                a.axvline(_num(r["t_s"]) / 60, color="red")
    ax[1].plot(t, series("threads"), label="threads")
    ax[1].plot(t, series("fds"), label="open files")
    ax[1].legend(loc="upper left")
    ax[1].set_ylabel("count")
    ax[2].plot(t, series("fps"), color="tab:green")
    ax[2].set_ylabel("fps")
    ax[3].plot(t, series("latency_p50_ms"), label="p50")
    ax[3].plot(t, series("latency_p95_ms"), label="p95")
    lat = (stats or {}).get("latency_ms") or {}
    if not any(math.isfinite(v) for v in series("latency_p50_ms")) and lat:
        for key, style in (("p50", "C0--"), ("p95", "C1--")):  # no /status: the whole run's, from --stats
            ax[3].plot(
                [t[0], t[-1]], [lat.get(key, math.nan)] * 2, style, label=f"{key} over the run (--stats)"
            )
    ax[3].legend(loc="upper left")
    ax[3].set_ylabel("latency (ms)")
    ax[3].set_xlabel("minutes")
    for a in ax:
        a.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
