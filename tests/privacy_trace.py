"""Read an strace log into the facts a privacy claim rests on: files written, sockets used.

    strace -f -y -e trace=file,network -o LOG python run_installation.py ...
    python -m tests.privacy_trace LOG [--cwd DIR] [--home DIR]      prints the summary

The parser reports facts only (what was written, where a socket went); what is allowed is
policy and lives with the test that asserts it (tests/test_privacy.py), next to the reason for
each allowance. Only calls that succeeded count as writes or traffic: a failed open wrote
nothing, a connect that found no peer sent nothing. Failed connects are kept (`ok=False`) so
that an attempt to reach the network is still visible.

Why `-y`: the *at calls (`unlinkat(6, "deviceid.tmp")`) name a file relative to a directory fd;
with -y strace prints that fd's path (`6</home/.cache/...>`), so every path here is absolute.
"""

from __future__ import annotations

import argparse
import codecs
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Syscalls that create, change or remove a name in the file system, and which of their
# arguments are (dirfd, path) pairs or plain paths.
_PATH_ARGS: dict[str, tuple[tuple[int | None, int], ...]] = {
    "creat": ((None, 0),),
    "mkdir": ((None, 0),),
    "mkdirat": ((0, 1),),
    "mknod": ((None, 0),),
    "mknodat": ((0, 1),),
    "unlink": ((None, 0),),
    "unlinkat": ((0, 1),),
    "rmdir": ((None, 0),),
    "rename": ((None, 0), (None, 1)),
    "renameat": ((0, 1), (2, 3)),
    "renameat2": ((0, 1), (2, 3)),
    "link": ((None, 1),),
    "linkat": ((2, 3),),
    "symlink": ((None, 1),),
    "symlinkat": ((1, 2),),
    "truncate": ((None, 0),),
}
_OPEN_ARGS = {"open": (None, 0, 1), "openat": (0, 1, 2), "openat2": (0, 1, 2)}  # dirfd, path, flags
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
_NET_CALLS = ("connect", "sendto", "sendmsg", "sendmmsg", "bind")

_LINE = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)?\]?\s*(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>\w+)\((?P<body>.*)$")
_RESULT = re.compile(r"\)\s+= ")
_FD_PATH = re.compile(r"^(-?\d+)<(.*)>$")
_FAMILY = re.compile(r"sa_family=(AF_\w+)")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_ADDR4 = re.compile(r'sin_addr=inet_addr\("([^"]*)"\)')
_ADDR6 = re.compile(r'inet_pton\(AF_INET6,\s*"([^"]*)"')
_SUN = re.compile(r'sun_path=(@?)"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True, slots=True)
class Call:
    pid: int
    name: str
    args: tuple[str, ...]
    result: str

    @property
    def ok(self) -> bool:
        return not self.result.startswith(("-1", "?"))


@dataclass(frozen=True, slots=True)
class Write:
    """One name created, changed or removed: `op` is the syscall, `flags` the open flags."""

    op: str
    path: str
    flags: str = ""
    pid: int = 0


@dataclass(frozen=True, slots=True)
class Endpoint:
    family: str  # AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, ... ("" for a connected socket's send)
    host: str = ""
    port: int | None = None
    path: str = ""  # AF_UNIX; abstract names start with "@"

    def __str__(self) -> str:
        if self.family in ("AF_INET", "AF_INET6"):
            return f"{self.family} {self.host}:{self.port}"
        if self.family == "AF_UNIX":
            return f"AF_UNIX {self.path}"
        return self.family or "connected socket"


@dataclass(frozen=True, slots=True)
class Net:
    op: str  # connect, sendto, sendmsg, sendmmsg, bind
    to: Endpoint
    ok: bool
    pid: int = 0


@dataclass
class Trace:
    calls: list[Call] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    nets: list[Net] = field(default_factory=list)
    execs: list[str] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)  # every path named by any call, read or write

    def touched(self, fragment: str) -> list[str]:
        return sorted(p for p in self.paths if fragment in p)


def _unquote(s: str) -> str:
    s = s.strip()
    if s.endswith("..."):  # a string strace cut at -s
        s = s[:-3]
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        raw = codecs.escape_decode(s[1:-1].encode("utf-8", "surrogateescape"))[0]
        return raw.decode("utf-8", "surrogateescape")
    return s


def split_args(body: str) -> tuple[str, ...]:
    """Top-level comma split that respects quotes, {}, [], () and -y's `6</path>` annotations."""
    out, cur, depth, quote, esc, angle = [], [], 0, False, False, False
    for i, ch in enumerate(body):
        cur.append(ch)
        if quote:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quote = False
        elif angle:  # an fd annotation: "<UDP:[a:1->b:2]>" holds "->", which closes nothing
            angle = not (ch == ">" and body[i - 1] != "-")
        elif ch == '"':
            quote = True
        elif ch == "<" and i and body[i - 1].isdigit():
            angle = True
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur[:-1]).strip())
            cur = []
    if cur or out:
        out.append("".join(cur).strip())
    return tuple(out)


def parse_calls(text: str) -> list[Call]:
    """Calls from an `strace -f` log; `<unfinished ...>` halves are joined with their resumption."""
    pending: dict[int, str] = {}
    calls: list[Call] = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        pid = int(m["pid"] or 0)
        rest = m["rest"]
        if rest.startswith(("+++", "---")):
            continue
        if rest.endswith("<unfinished ...>"):
            pending[pid] = rest[: -len("<unfinished ...>")].rstrip()
            continue
        if rest.startswith("<..."):
            head = pending.pop(pid, None)
            tail = rest.split("resumed>", 1)
            if head is None or len(tail) != 2:
                continue
            rest = head + tail[1]
        cm = _CALL.match(rest)
        if not cm:
            continue
        body = cm["body"]
        ends = list(_RESULT.finditer(body))  # strace pads `)   = 4` to a column after a resumption
        if not ends:
            continue
        end = ends[-1]
        calls.append(Call(pid, cm["name"], split_args(body[: end.start()]), body[end.end() :].strip()))
    return calls


def _resolve(dirfd: str | None, path: str, cwd: str) -> str:
    if path.startswith("/"):
        return path
    if dirfd is None or dirfd == "AT_FDCWD":
        base = cwd
    else:
        m = _FD_PATH.match(dirfd)
        base = m.group(2) if m else f"<fd {dirfd}>"
    return f"{base.rstrip('/')}/{path}"


def _endpoint(arg: str) -> Endpoint:
    fam = _FAMILY.search(arg)
    if not fam:
        return Endpoint("")
    family = fam.group(1)
    port = _PORT.search(arg)
    addr = _ADDR4.search(arg) or _ADDR6.search(arg)
    sun = _SUN.search(arg)
    return Endpoint(
        family,
        host=addr.group(1) if addr else "",
        port=int(port.group(1)) if port else None,
        path=(sun.group(1) + _unquote(f'"{sun.group(2)}"')) if sun else "",
    )


def analyse(calls: list[Call], cwd: str = "/") -> Trace:
    t = Trace(calls=calls)
    for c in calls:
        a = c.args
        if c.name in _OPEN_ARGS:
            dfd, pi, fi = _OPEN_ARGS[c.name]
            if len(a) <= pi:
                continue
            path = _resolve(a[dfd] if dfd is not None else None, _unquote(a[pi]), cwd)
            t.paths.add(path)
            flags = a[fi] if len(a) > fi else ""
            if c.ok and any(f in flags for f in WRITE_FLAGS):
                t.writes.append(Write(c.name, path, flags, c.pid))
        elif c.name in _PATH_ARGS:
            for dfd, pi in _PATH_ARGS[c.name]:
                if len(a) <= pi:
                    continue
                path = _resolve(a[dfd] if dfd is not None else None, _unquote(a[pi]), cwd)
                t.paths.add(path)
                if c.ok:
                    t.writes.append(Write(c.name, path, "", c.pid))
        elif c.name in _NET_CALLS:
            addr_arg = {"connect": 1, "bind": 1, "sendto": 4}.get(c.name, 1)
            ep = _endpoint(a[addr_arg]) if len(a) > addr_arg else Endpoint("")
            t.nets.append(Net(c.name, ep, c.ok, c.pid))
        elif c.name.startswith("execve") and c.ok and a:
            t.execs.append(_unquote(a[0] if c.name == "execve" else a[1]))
        elif a and a[0].startswith('"'):
            t.paths.add(_resolve(None, _unquote(a[0]), cwd))
        elif len(a) > 1 and a[1].startswith('"'):  # *at(dirfd, path, ...)
            t.paths.add(_resolve(a[0], _unquote(a[1]), cwd))
    return t


def load(log: str | Path, cwd: str | Path = "/") -> Trace:
    return analyse(parse_calls(Path(log).read_text(errors="replace")), str(cwd))


def summary(
    t: Trace, home: str | Path | None = None, limit: int = 60, why: Callable[[Write], str] | None = None
) -> str:
    """Distinct written paths (with the ops on each, and `why` of the first), sockets, programs run."""

    def short(p: str) -> str:
        return "~" + p[len(str(home)) :] if home and p.startswith(str(home)) else p

    per_path: dict[str, Counter] = {}
    first: dict[str, Write] = {}
    for w in t.writes:
        per_path.setdefault(w.path, Counter())[w.op] += 1
        first.setdefault(w.path, w)
    lines = [f"files written ({len(per_path)} paths, {len(t.writes)} calls):"]
    for path in sorted(per_path)[:limit]:
        ops = ", ".join(f"{op}×{n}" for op, n in sorted(per_path[path].items()))
        reason = f"  ({why(first[path])})" if why else ""
        lines.append(f"  {short(path)}  [{ops}]{reason}")
    if len(per_path) > limit:
        lines.append(f"  ... {len(per_path) - limit} more")
    socks = Counter((n.op, str(n.to), n.ok) for n in t.nets)
    lines.append(f"sockets ({sum(socks.values())} calls):")
    for (op, to, ok), n in sorted(socks.items()):
        lines.append(f"  {op} {to}{'' if ok else ' (failed: no peer)'}  ×{n}")
    lines.append("programs run: " + (", ".join(sorted(set(t.execs))) or "none"))
    return "\n".join(lines)


def strace_command(log: str | Path) -> list[str]:
    """The trace every privacy check uses: follow threads and children, file and network calls."""
    exe = shutil.which("strace")
    if exe is None:
        raise FileNotFoundError("strace is not installed (Debian: apt-get install strace)")
    return [exe, "-f", "-y", "-e", "trace=file,network", "-o", str(log), "--"]


def run_traced(cmd: list[str], log: str | Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(strace_command(log) + cmd, **kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--cwd", default=".", help="the traced process's working directory")
    ap.add_argument("--home", help="shown as ~ in the summary")
    args = ap.parse_args()
    print(summary(load(args.log, Path(args.cwd).resolve()), args.home))


if __name__ == "__main__":
    main()
