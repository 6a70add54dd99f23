"""Per-thread CPU from /proc: Python threads by their own names, and a busy one shows its work."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from engine.bench import cpu_by_stage
from engine.procstat import children_of, sample, thread_cpu


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


def test_a_childs_memory_counts_as_the_engines() -> None:
    """The perception child's leak must reach the watchdog's ceiling and the soak's slope."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; b = bytearray(200 * 2**20); sys.stdout.write('ok\\n');"
            " sys.stdout.flush(); time.sleep(30)",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ok\n"  # its 200 MB are in
        assert child.pid in children_of(os.getpid())
        alone, with_kids = sample(children=False), sample()
        assert with_kids.rss_mb - alone.rss_mb > 190
        assert with_kids.threads > alone.threads
    finally:
        child.kill()
        child.wait()
