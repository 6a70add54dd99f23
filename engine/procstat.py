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


def sample(pid: int | str = "self", children: bool = True) -> ProcSample:
    """The process, and with `children` its child processes added in (the perception child,
    ffmpeg while recording): a leak in the child counts against the watchdog's memory ceiling and
    shows in the soak's slope like one in the engine. Raises ProcessLookupError when it is gone."""
    own = _sample_one(pid)
    if not children:
        return own
    total = own
    for kid in children_of(os.getpid() if pid == "self" else int(pid)):
        try:
            k = _sample_one(kid)
        except ProcessLookupError:  # it ended meanwhile
            continue
        total = ProcSample(
            round(total.rss_mb + k.rss_mb, 1),
            total.threads + k.threads,
            total.open_files + k.open_files,
            total.cpu_s + k.cpu_s,
        )
    return total


def _sample_one(pid: int | str) -> ProcSample:
    base = f"/proc/{pid}"
    try:
        with open(f"{base}/statm") as f:
            rss_pages = int(f.read().split()[1])
        with open(f"{base}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        threads = int(fields[17])  # field 20 of proc(5), counted after the command name
        cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
        fds = len(os.listdir(f"{base}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        if pid != "self":
            raise ProcessLookupError(pid) from None
        return ProcSample(0.0, 0, 0, 0.0)
    return ProcSample(round(rss_pages * PAGE / 2**20, 1), threads, fds, cpu)


def thread_cpu(children: bool = True) -> dict[int, tuple[str, float]]:
    """This process's threads, and with `children` its child processes' (the perception child,
    ffmpeg): native id → (name, CPU seconds so far). Python threads of this process go by their
    Python name (the OS knows them all as "python"); the others by the name the OS has for them
    (MediaPipe's, Mesa's llvmpipe, a child's main thread as it named itself). Empty without /proc."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    pids = [os.getpid(), *(children_of(os.getpid()) if children else ())]
    out: dict[int, tuple[str, float]] = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except (FileNotFoundError, ProcessLookupError):
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    head, rest = f.read().rsplit(")", 1)
            except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
                continue
            fields = rest.split()
            comm = head.split("(", 1)[1]
            out[int(tid)] = (names.get(int(tid), comm), (int(fields[11]) + int(fields[12])) / TICKS)
    return out


def children_of(parent: int) -> list[int]:
    """Pids of `parent`'s direct children, from /proc (no psutil)."""
    kids: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
        if ppid == parent:
            kids.append(int(entry))
    return kids
