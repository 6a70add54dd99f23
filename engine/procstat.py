"""A process's footprint from /proc: resident memory, threads, open files, CPU time.

The status page, the picture watchdog's memory ceiling and the soak tool all read the same
numbers, so a leak seen in one is the leak seen in the others. Linux only; elsewhere the figures
are zero rather than an error, since they inform and never steer the picture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcSample:
    rss_mb: float
    threads: int
    open_files: int
    cpu_s: float  # user + system CPU seconds since the process started


def sample(pid: int | str = "self") -> ProcSample:
    """Raises ProcessLookupError when the process is gone."""
    base = f"/proc/{pid}"
    try:
        with open(f"{base}/statm") as f:
            rss_pages = int(f.read().split()[1])
        with open(f"{base}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        threads = int(fields[17])  # field 20 of proc(5), counted after the command name
        cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
        fds = len(os.listdir(f"{base}/fd"))
    except FileNotFoundError:
        if pid != "self":
            raise ProcessLookupError(pid) from None
        return ProcSample(0.0, 0, 0, 0.0)
    return ProcSample(round(rss_pages * PAGE / 2**20, 1), threads, fds, cpu)


def thread_cpu() -> dict[int, tuple[str, float]]:
    """This process's threads: native id → (name, CPU seconds so far). Python threads go by their
    Python name (the OS knows them all as "python"); native ones (MediaPipe's, Mesa's llvmpipe) by
    the name their library gave them. Empty where /proc is missing."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    out: dict[int, tuple[str, float]] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
        fields = rest.split()
        comm = head.split("(", 1)[1]
        out[int(tid)] = (names.get(int(tid), comm), (int(fields[11]) + int(fields[12])) / TICKS)
    return out
