"""Install the installation as a systemd service: `python -m engine.service unit|install|uninstall`.

deploy/latent-mirror.service is the one source of the unit (written for a checkout at
/opt/latent-mirror, so a technician can read it as it is); this module fills in this checkout's paths
and the chosen config, and adapts it to the user manager (`--user`: a window in the desktop session,
the usual kiosk) or the system manager. It prints the systemctl commands instead of running them
unless asked (`--now`): enabling a service on someone's gallery machine should be a visible step.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "latent-mirror.service"
TEMPLATE_ROOT = "/opt/latent-mirror"
TEMPLATE_CONFIG = f"{TEMPLATE_ROOT}/deploy/installation.toml"
SYSTEM_DIR = Path("/etc/systemd/system")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")

# the lines that differ between the user manager (as shipped) and the system manager (None: dropped)
USER_ONLY: dict[str, str | None] = {
    "After=graphical-session.target": "After=systemd-user-sessions.service",
    "PartOf=graphical-session.target": None,
    "WantedBy=graphical-session.target": "WantedBy=multi-user.target",
}


class ServiceError(Exception):
    """One line for the technician; `code` 2 = bad input, 1 = the machine refused."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    name: str
    user_mode: bool
    root: Path
    config: Path

    @property
    def unit_name(self) -> str:
        return f"{self.name}.service"

    def unit_dir(self) -> Path:
        if not self.user_mode:
            return SYSTEM_DIR
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "systemd" / "user"

    def systemctl(self, *args: str) -> list[str]:
        return ["systemctl", *(["--user"] if self.user_mode else []), *args]


def _exec_arg(value: str) -> str:
    """One ExecStart argument: quoted when it has spaces; % and $ are systemd's, so doubled."""
    value = value.replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_./+=:@,-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _system_user(root: Path) -> str:
    """Who runs a system unit: whoever ran sudo, else the checkout's owner (its .venv is theirs)."""
    name = os.environ.get("SUDO_USER")
    if name:
        return name
    return pwd.getpwuid(root.stat().st_uid).pw_name


def render(target: Target, template: str | None = None) -> str:
    """The unit text for this checkout and config."""
    text = TEMPLATE.read_text() if template is None else template
    root, config = str(target.root), str(target.config)
    python = f"{root}/.venv/bin/python"
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("ExecStart="):
            args = [python, f"{root}/run_installation.py", "--config", config]
            line = "ExecStart=" + " ".join(_exec_arg(a) for a in args)
        elif line.startswith("WorkingDirectory="):
            line = "WorkingDirectory=" + root.replace("%", "%%")
        elif line.startswith("Documentation="):
            line = "Documentation=file://" + quote(f"{root}/docs/deploy.md").replace("%", "%%")
        elif not target.user_mode and line in USER_ONLY:
            swap = USER_ONLY[line]
            if swap is None:
                continue
            line = swap
        elif line.startswith("#") and TEMPLATE_ROOT in line:
            line = line.replace(TEMPLATE_ROOT, root)
        out.append(line)
        if not target.user_mode and line == "[Service]":
            out.append(f"User={_system_user(target.root)}")
    missing = [k for k in ("ExecStart=", "WorkingDirectory=") if not any(x.startswith(k) for x in out)]
    if missing:
        raise ServiceError(f"{TEMPLATE}: no {missing[0]} line: the template is damaged", 1)
    return "\n".join(out) + "\n"


def resolve(args: argparse.Namespace) -> Target:
    """Checks everything the unit will point at, so a bad path fails here and not at boot."""
    if not NAME_RE.fullmatch(args.name):
        raise ServiceError(f"--name '{args.name}': use letters, digits and _ . : - only")
    root = Path(args.root).expanduser().resolve()
    if args.action == "uninstall":  # removing a unit must work whatever state the checkout is in
        return Target(args.name, args.user, root, root)
    for need in (root / ".venv" / "bin" / "python", root / "run_installation.py"):
        if not need.exists():
            hint = " (run ./run once to create it)" if ".venv" in need.parts else ""
            raise ServiceError(f"--root {root}: {need} not found{hint}")
    config = Path(args.config).expanduser() if args.config else root / "deploy" / "installation.toml"
    config = config if config.is_absolute() else Path.cwd() / config
    config = config.resolve()
    if not config.is_file():
        raise ServiceError(f"--config {config}: no such file")
    from engine.config import ConfigError, load_config

    try:
        load_config(config)
    except (ConfigError, KeyError, ValueError, OSError) as e:
        raise ServiceError(f"config error: {str(e).strip(chr(39))}") from None
    return Target(args.name, args.user, root, config)


def _run(cmds: list[list[str]]) -> None:
    for cmd in cmds:
        print("$ " + " ".join(cmd))
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ServiceError(f"{' '.join(cmd)}: {e}", 1) from None
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise ServiceError(f"{' '.join(cmd)}: {why}", 1)


def install(target: Target, dry_run: bool, now: bool) -> None:
    path = target.unit_dir() / target.unit_name
    text = render(target)
    cmds = [target.systemctl("daemon-reload"), target.systemctl("enable", "--now", target.unit_name)]
    if dry_run:
        print(f"would write {path}:\n")
        print(text)
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as e:
            hint = "" if target.user_mode else " (system units need root: sudo, or --user for a desktop)"
            raise ServiceError(f"cannot write {path}: {e.strerror}{hint}", 1) from None
        print(f"wrote {path}")
    if now and not dry_run:
        _run(cmds)
    else:
        when = "with every desktop session" if target.user_mode else "at every boot"
        print(f"to start it now and {when}:" if not dry_run else "then:")
        for cmd in cmds:
            print("  " + " ".join(cmd))
    journal = "journalctl --user" if target.user_mode else "journalctl"
    print(f"follow its log: {journal} -u {target.unit_name} -f")


def uninstall(target: Target, dry_run: bool, now: bool) -> None:
    path = target.unit_dir() / target.unit_name
    stop = target.systemctl("disable", "--now", target.unit_name)
    reload = target.systemctl("daemon-reload")
    if dry_run:
        print(f"would run: {' '.join(stop)}\nwould remove {path}")
        return
    if now:
        _run([stop])
    if path.exists():
        try:
            path.unlink()
        except OSError as e:
            raise ServiceError(f"cannot remove {path}: {e.strerror}", 1) from None
        print(f"removed {path}")
    else:
        print(f"not installed: {path}")
    if now:
        _run([reload])
    else:
        print("to stop a running copy and forget the unit:")
        print("  " + " ".join(stop))
        print("  " + " ".join(reload))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m engine.service", description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=("unit", "install", "uninstall"))
    ap.add_argument("--user", action="store_true", help="the user's manager (the desktop session, kiosk)")
    ap.add_argument("--config", metavar="PATH.toml", help="default: deploy/installation.toml")
    ap.add_argument("--name", default="latent-mirror", help="unit name (one per projector)")
    ap.add_argument("--root", default=str(ROOT), help="checkout the unit runs (default: this one)")
    ap.add_argument("--dry-run", action="store_true", help="show what would be written, change nothing")
    ap.add_argument("--now", action="store_true", help="also run the systemctl commands")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        target = resolve(args)
        if args.action == "unit":
            sys.stdout.write(render(target))
        elif args.action == "install":
            install(target, args.dry_run, args.now)
        else:
            uninstall(target, args.dry_run, args.now)
    except ServiceError as e:
        print(f"engine.service: {e}", file=sys.stderr)
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
