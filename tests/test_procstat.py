"""Per-thread CPU from /proc: Python threads by their own names, and a busy one shows its work."""

from __future__ import annotations

import threading
import time

from engine.bench import cpu_by_stage
from engine.procstat import thread_cpu


def _spin(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(1000))


def test_a_busy_python_thread_is_found_by_its_name_with_its_cpu() -> None:
    stop = threading.Event()
    worker = threading.Thread(target=_spin, args=(stop,), name="generator", daemon=True)
    worker.start()
    try:
        before = thread_cpu()
        t0 = time.perf_counter()
        time.sleep(0.6)
        after = thread_cpu()
        elapsed = time.perf_counter() - t0
    finally:
        stop.set()
        worker.join()
    assert after[worker.native_id][0] == "generator"
    cores = cpu_by_stage(before, after, elapsed)
    assert cores["generator"] > 0.2  # it spun (the GIL and a busy machine share it, never to zero)
    assert cores["perception"] == 0.0
    assert abs(cores["total"] - sum(v for k, v in cores.items() if k != "total")) < 0.05
