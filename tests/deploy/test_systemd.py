"""The unit for real: a user-level systemd runs the engine, waits for READY and restarts it when it hangs.

systemd is installed here but is not PID 1, so the test starts its own `systemd --user` inside a
private mount namespace (a tmpfs on /run/systemd holding /run/systemd/system, which is how systemd
tells it was booted with systemd). The unit is the one `python -m engine.service install --user`
writes, with a drop-in that only shortens WatchdogSec and RestartSec and sends the output to a file
(there is no journald in the namespace). Every process the test starts is killed by PID at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = Path("/lib/systemd/systemd")
UNIT = "latent-mirror.service"
WATCHDOG_S = 5

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    for tool in ("unshare", "systemctl"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (Debian: util-linux, systemd)"
    if not SYSTEMD.exists():
        return f"{SYSTEMD} not installed (Debian: systemd)"
    if os.geteuid() != 0:
        return "unshare -m needs root (CAP_SYS_ADMIN) to give systemd its own /run/systemd"
    return None


def _descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every process below pid: the start time guards against PID reuse."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


def _kill_if_same(pid: int, start: str) -> None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat[stat.rindex(")") + 2 :].split()[19] == start:
            os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass


def _own_cgroups(name: str) -> list[Path]:
    """A cgroup of our own in each hierarchy systemd uses here.

    systemd --user puts its units under its own cgroup's parent: started from the shared one, two
    managers (two test runs at once) would share /app.slice/latent-mirror.service, and one's watchdog
    kill would kill the other's engine.
    """
    base = Path("/sys/fs/cgroup")
    hierarchies = [base / h for h in ("systemd", "unified") if (base / h / "cgroup.procs").exists()]
    if not hierarchies and (base / "cgroup.procs").exists():  # pure cgroup v2
        hierarchies = [base]
    out = []
    for h in hierarchies:
        (h / name).mkdir()
        out.append(h / name)
    return out


def _cgroup_pids(top: Path) -> list[int]:
    pids = []
    for d, _, files in os.walk(top):
        if "cgroup.procs" in files:
            with contextlib.suppress(OSError):
                pids += [int(x) for x in (Path(d) / "cgroup.procs").read_text().split()]
    return pids


class UserManager:
    """A `systemd --user` of our own, in a private mount namespace, driven with systemctl --user."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        runtime = tmp / "runtime"
        runtime.mkdir(mode=0o700)
        (tmp / "home").mkdir()
        self.env = dict(
            os.environ,
            XDG_RUNTIME_DIR=str(runtime),
            XDG_CONFIG_HOME=str(tmp / "config"),
            HOME=str(tmp / "home"),
        )
        self.log = tmp / "manager.log"
        self.cgroups = _own_cgroups(f"latent-mirror-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        script = (
            'for g in $CGROUPS; do echo $$ > "$g/cgroup.procs" || exit 1; done'
            " && mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/system"
            f" && exec {SYSTEMD} --user"
        )
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                env=dict(self.env, CGROUPS=" ".join(str(g) for g in self.cgroups)),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while self.systemctl("show", "-p", "Version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"systemd --user did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            ["systemctl", "--user", *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        if check and done.returncode != 0:
            raise AssertionError(f"systemctl --user {' '.join(args)}: {done.stderr.strip()}")
        return done

    def service(self, *args: str) -> None:
        """`python -m engine.service ARGS` as a technician runs it, against this manager; must succeed."""
        done = subprocess.run(
            [sys.executable, "-m", "engine.service", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr

    def cgroup_of(self, pid: int) -> str:
        return Path(f"/proc/{pid}/cgroup").read_text()

    def show(self, *props: str) -> dict[str, str]:
        out = self.systemctl("show", UNIT, "-p", ",".join(props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def close(self) -> None:
        procs = _descendants(self.proc.pid)
        self.proc.terminate()  # the manager stops its units and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(20)
        for pid, start in procs:  # whatever outlived it (a stopped engine, a stuck sh)
            _kill_if_same(pid, start)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(20)
        for top in self.cgroups:  # our own cgroups: anything still in them is ours
            for pid in _cgroup_pids(top):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            for _ in range(50):
                if not _cgroup_pids(top):
                    break
                time.sleep(0.1)
            for d, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):  # leaves first
                with contextlib.suppress(OSError):
                    os.rmdir(d)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[UserManager]:
    why = _missing()
    if why:
        pytest.skip(why)
    m = UserManager(tmp_path)
    try:
        yield m
    finally:
        m.close()


def wait_for(m: UserManager, done, timeout: float, what: str) -> list[tuple[float, dict[str, str]]]:
    """Polls the unit until done(props); returns the whole timeline for the assertions."""
    seen: list[tuple[float, dict[str, str]]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        props = m.show("ActiveState", "SubState", "MainPID", "NRestarts", "Result", "StatusText")
        seen.append((time.monotonic(), props))
        if done(props):
            return seen
        time.sleep(0.05)
    log = (m.tmp / "engine.log").read_text()[-3000:] if (m.tmp / "engine.log").exists() else ""
    raise AssertionError(f"{what} not within {timeout} s; last {seen[-1][1]}\n{log}")


def changes(seen: list[tuple[float, dict[str, str]]]) -> list[str]:
    """The timeline in short, for failure messages: each change of state, PID or result."""
    out, last = [], None
    for t, p in seen:
        now = (p["ActiveState"], p["SubState"], p["MainPID"], p["Result"], p["NRestarts"])
        if now != last:
            out.append(f"{t - seen[0][0]:.2f}s {'/'.join(now)}")
            last = now
    return out


def usec(m: UserManager, prop: str) -> float:
    return int(m.show(prop)[prop]) / 1e6  # CLOCK_MONOTONIC, the clock of time.monotonic()


GOOD_CONFIG = '[run]\nsource = "demo"\nheadless = true\n\n[osc]\nlisten = "off"\n'


def install(m: UserManager, text: str = GOOD_CONFIG) -> Path:
    """The unit exactly as a technician installs it, plus a drop-in: short timeouts, output to a file."""
    tmp = m.tmp
    config = tmp / "installation.toml"
    config.write_text(text)
    m.service("install", "--user", "--config", str(config))
    dropin = tmp / "config" / "systemd" / "user" / f"{UNIT}.d"
    dropin.mkdir()
    (dropin / "test.conf").write_text(
        f"[Service]\nWatchdogSec={WATCHDOG_S}\nRestartSec=1\n"
        f"StandardOutput=append:{tmp}/engine.log\nStandardError=append:{tmp}/engine.log\n"
    )
    return config


def test_notify_unit_waits_for_ready_and_the_watchdog_restarts_a_hung_engine(manager: UserManager) -> None:
    m, tmp = manager, manager.tmp
    config = install(m)
    m.systemctl("daemon-reload")
    props = m.show("LoadState", "Type", "NotifyAccess", "RestartUSec", "DropInPaths", "ExecStart")
    assert props["LoadState"] == "loaded" and props["Type"] == "notify", props
    assert props["RestartUSec"] == "1s" and props["DropInPaths"].endswith("test.conf"), props
    assert str(config) in props["ExecStart"], props

    # 1. activating while the engine loads, active only once READY says a frame is on screen
    m.systemctl("start", "--no-block", UNIT)
    seen = wait_for(m, lambda p: p["ActiveState"] == "active", 180, "active")
    loading = [p for _, p in seen if p["ActiveState"] == "activating" and p["MainPID"] != "0"]
    assert loading and all(p["SubState"] == "start" for p in loading), seen[:3]
    assert seen[-1][1]["StatusText"] == "presenting frames"  # sent with READY=1 by engine/notify.py
    started = usec(m, "ExecMainStartTimestampMonotonic")
    ready = usec(m, "ActiveEnterTimestampMonotonic")
    pid = int(seen[-1][1]["MainPID"])
    if m.cgroups:  # the engine runs in our manager's own subtree, out of reach of any other run
        assert f"{m.cgroups[0].name}/app.slice/{UNIT}" in m.cgroup_of(pid)

    # the render loop pings: the watchdog stamp moves on while frames are presented
    assert m.show("WatchdogUSec")["WatchdogUSec"] == f"{WATCHDOG_S}s"  # shown once running
    time.sleep(WATCHDOG_S * 0.8)
    assert usec(m, "WatchdogTimestampMonotonic") > ready
    assert m.show("ActiveState")["ActiveState"] == "active"

    # systemctl reload: SIGHUP, the config is read again between frames, same process, still active
    m.systemctl("reload", UNIT)
    deadline = time.monotonic() + 30
    while "SIGHUP: config reloaded" not in (tmp / "engine.log").read_text():
        assert time.monotonic() < deadline, (tmp / "engine.log").read_text()[-2000:]
        time.sleep(0.1)
    assert m.show("ActiveState", "MainPID") == {"ActiveState": "active", "MainPID": str(pid)}

    # 2. a hung engine: no frames, no pings; the watchdog kills it and systemd starts a new one
    os.kill(pid, signal.SIGSTOP)
    stopped = time.monotonic()
    seen = wait_for(
        m,
        lambda p: p["ActiveState"] == "active" and p["MainPID"] not in ("0", str(pid)),
        WATCHDOG_S + 180,
        "restart after the watchdog",
    )
    assert any(p["Result"] == "watchdog" for _, p in seen), [p for _, p in seen][:5]
    exits = m.show("ExecMainCode", "ExecMainStatus")
    assert seen[-1][1]["NRestarts"] == "1", (changes(seen), exits)
    assert not Path(f"/proc/{pid}").exists()  # the hung process is gone, not left stopped
    fired = usec(m, "ActiveExitTimestampMonotonic")
    restarted = usec(m, "ExecMainStartTimestampMonotonic")
    active_again = usec(m, "ActiveEnterTimestampMonotonic")
    # the last ping came at most WatchdogSec/3 before the SIGSTOP: the timeout ran out in between
    assert WATCHDOG_S * 2 / 3 - 0.5 < fired - stopped < WATCHDOG_S + 3
    # PYTHONFAULTHANDLER=1: the watchdog's SIGABRT left every thread's stack in the log
    assert "Fatal Python error: Aborted" in (tmp / "engine.log").read_text()

    # 3. stop: SIGTERM, the engine exits 0 on its own; uninstall --now disables and forgets the unit
    m.systemctl("stop", UNIT)
    props = m.show("ActiveState", "Result", "ExecMainStatus")
    assert props == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}, props
    m.service("uninstall", "--user", "--now")
    assert m.show("LoadState")["LoadState"] == "not-found"

    print(
        f"\nREADY {ready - started:.2f} s after exec; watchdog fired {fired - stopped:.2f} s after SIGSTOP "
        f"(WatchdogSec={WATCHDOG_S}); new process {restarted - stopped:.2f} s, active again "
        f"{active_again - stopped:.2f} s after SIGSTOP (READY {active_again - restarted:.2f} s after exec)"
    )


def test_kiosk_session_target_starts_and_stops_the_enabled_unit(manager: UserManager) -> None:
    """docs/deploy.md's bare X session: ~/.xinitrc starts kiosk-session.target, the piece follows."""
    m = manager
    install(m)
    shutil.copy(ROOT / "deploy" / "kiosk-session.target", m.tmp / "config" / "systemd" / "user")
    m.systemctl("daemon-reload")
    m.systemctl("enable", UNIT)  # as `engine.service install` tells the technician
    assert m.show("ActiveState")["ActiveState"] == "inactive"
    m.systemctl("start", "--no-block", "kiosk-session.target")
    wait_for(m, lambda p: p["ActiveState"] == "active", 180, "active with the session")
    m.systemctl("stop", "kiosk-session.target")  # the session ends (X quit, logout)
    wait_for(m, lambda p: p["ActiveState"] == "inactive", 60, "stopped with the session")
    assert m.show("Result", "NRestarts") == {"Result": "success", "NRestarts": "0"}


def test_a_broken_install_stops_after_the_start_limit(manager: UserManager) -> None:
    """A config that breaks after install (edited by hand) fails 5 times, then the unit stays failed."""
    m = manager
    config = install(m)
    config.write_text(GOOD_CONFIG + "\n[latent]\nspeed = 500\n")  # out of range: exit 2 at every start
    m.systemctl("daemon-reload")
    m.systemctl("start", "--no-block", UNIT)
    seen = wait_for(m, lambda p: p["ActiveState"] == "failed", 180, "failed")
    restarts = seen[-1][1]["NRestarts"]  # systemd 252 counts the refused sixth start too
    time.sleep(4)  # RestartSec=1: another start would have come by now
    assert m.show("ActiveState", "NRestarts") == {"ActiveState": "failed", "NRestarts": restarts}
    log = (m.tmp / "engine.log").read_text()
    # StartLimitBurst=5: five real starts, each one line naming the key, then no more
    assert log.count("config error: ") == 5 and "latent.speed = 500 is out of range" in log, log[-2000:]
