"""The engine's status as Prometheus metrics: what `GET /metrics` on the HTTP status port answers.

A Prometheus server scrapes this and alerts when fps drops, a stage goes silent or the watchdog acts,
so nobody has to watch the piece. The metrics are read from the same status callable as /status, at
scrape time, so the two never disagree and never go stale. Kept apart from the server because it is
the one part that speaks Prometheus (names, units, labels); the server only routes to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder


def _number(value: object) -> float | None:
    if isinstance(value, bool | int | float) and math.isfinite(float(value)):
        return float(value)
    return None


def _get(doc: dict, *path: str) -> object:
    for key in path:
        doc = doc.get(key) if isinstance(doc, dict) else None  # type: ignore[assignment]
    return doc


# name, help, path in the status dict, scale to the metric's unit
GAUGES = (
    ("ok", "1 while the picture watchdog sees no fault", ("ok",), 1.0),
    ("uptime_seconds", "seconds since the engine started", ("uptime_s",), 1.0),
    ("fps", "presented frames per second over the last few seconds", ("fps",), 1.0),
    ("fps_average", "presented frames per second since start", ("fps_avg",), 1.0),
    ("camera_live", "1 while the camera (or source) delivers fresh frames", ("camera", "live"), 1.0),
    ("viewer_present", "1 while someone stands in front of the piece", ("viewer_present",), 1.0),
    ("sleeping", "1 outside opening hours (faded to black, idle)", ("sleeping",), 1.0),
    ("recording", "1 while the output is being recorded", ("recording",), 1.0),
    ("resident_memory_bytes", "resident memory of the engine process", ("rss_mb",), 2.0**20),
    ("threads", "threads of the engine process", ("threads",), 1.0),
    ("open_files", "open file descriptors of the engine process", ("open_files",), 1.0),
)
STAGE_GAUGES = (
    ("stage_age_seconds", "seconds since the stage last finished a run", "age_s", 1.0),
    ("stage_duration_seconds", "median run time of the stage", "ms_p50", 1e-3),
    ("stage_rate_hz", "runs per second of the stage", "hz", 1.0),
)


class StatusCollector:
    """Reads the status dict at scrape time (a custom Collector: nothing is kept between scrapes).

    `status` gives plain JSON values (the server passes it through `jsonable`: numpy scalars as
    numbers, NaN as None). Missing keys and None values (a stage that never beat) leave the sample out
    rather than invent a number; counters come from the engine's own counts, so they only reset when
    it restarts.
    """

    def __init__(self, status: Callable[[], object], prefix: str = "latent_mirror_") -> None:
        self.status, self.prefix = status, prefix

    def collect(self) -> Iterable[Metric]:
        s, p = self.status(), self.prefix
        if not isinstance(s, dict):
            raise TypeError(f"the status is a {type(s).__name__}, not a dict")
        for name, doc, path, scale in GAUGES:
            value = _number(_get(s, *path))
            if value is not None:
                yield GaugeMetricFamily(p + name, doc, value=value * scale)
        latency = GaugeMetricFamily(p + "latency_seconds", "capture to present", labels=["quantile"])
        for key, q in (("p50", "0.5"), ("p95", "0.95")):
            if (v := _number(_get(s, "latency_ms", key))) is not None:
                latency.add_metric([q], v * 1e-3)
        yield latency
        stages = s.get("stages") if isinstance(s.get("stages"), dict) else {}
        for name, doc, key, scale in STAGE_GAUGES:
            family = GaugeMetricFamily(p + name, doc, labels=["stage"])
            for stage, info in sorted(stages.items()):
                if (v := _number(_get(info, key))) is not None:
                    family.add_metric([stage], v * scale)
            yield family
        yield from self._counters(s)
        info = {k: str(s[k]) for k in ("version", "scene", "provider", "model") if k in s}
        if isinstance(_get(s, "camera", "source"), str):
            info["camera_source"] = str(_get(s, "camera", "source"))
        yield InfoMetricFamily(p + "engine", "what runs: version, scene, provider, model", value=info)

    def _counters(self, s: dict) -> Iterable[Metric]:
        p = self.prefix
        if (v := _number(s.get("presented"))) is not None:
            yield CounterMetricFamily(p + "presented_frames", "frames presented since start", value=v)
        if (v := _number(_get(s, "perception_process", "restarts"))) is not None:
            doc = "perception child processes restarted"
            yield CounterMetricFamily(p + "perception_restarts", doc, value=v)
        for name, doc, path, label in (
            ("errors", "stage failures since start", ("errors",), "stage"),
            ("watchdog_steps", "watchdog recovery steps taken", ("watchdog", "steps"), "step"),
            ("watchdog_faults", "faults the watchdog saw", ("watchdog", "faults"), "kind"),
        ):
            family = CounterMetricFamily(p + name, doc, labels=[label])
            counts = _get(s, *path)
            for key, count in sorted(counts.items()) if isinstance(counts, dict) else ():
                if (v := _number(count)) is not None:
                    family.add_metric([str(key)], v)
            yield family


def metrics_page(status: Callable[[], object]) -> Callable[[str | None], tuple[bytes, str]]:
    """The /metrics answer for an Accept header: (body, content type), text or OpenMetrics as asked.

    A registry of its own per server, not prometheus_client's global one: two servers in one process
    (tests, a restart in place) never report each other's numbers or trip over duplicate names.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(status))

    def answer(accept: str | None) -> tuple[bytes, str]:
        encode, content_type = choose_encoder(accept or "")
        return encode(registry), content_type

    return answer
