"""`python -m engine.service`: the unit it prints is one systemd accepts without a single warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import service

ROOT = Path(__file__).resolve().parents[2]
needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (Debian: systemd)"
)


def run_service(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.service", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def verify(unit: Path, user: bool, tmp_path: Path) -> subprocess.CompletedProcess:
    """systemd-analyze exits 0 on unknown keys and bad values: its stderr is the real verdict."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))  # the --user manager model needs one
    cmd = ["systemd-analyze", *(["--user"] if user else []), "verify", unit.name]
    return subprocess.run(cmd, cwd=unit.parent, env=env, capture_output=True, text=True, timeout=120)


@needs_analyze
@pytest.mark.parametrize("user", [True, False], ids=["user", "system"])
def test_unit_passes_systemd_analyze_verify(tmp_path: Path, user: bool) -> None:
    out = run_service("unit", *(["--user"] if user else []))
    assert out.returncode == 0 and out.stderr == "", out.stderr
    text = out.stdout
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "Restart=always",
        "WatchdogSec=30",
        f"WorkingDirectory={ROOT}",
        f"ExecStart={ROOT}/.venv/bin/python {ROOT}/run_installation.py"
        f" --config {ROOT}/deploy/installation.toml",
    ):
        assert line in text.splitlines(), line
    assert "/opt/latent-mirror" not in text
    wanted = "WantedBy=graphical-session.target" if user else "WantedBy=multi-user.target"
    assert wanted in text.splitlines() and ("User=" in text) != user
    assert ("PartOf=graphical-session.target" in text) == user
    unit = tmp_path / "latent-mirror.service"
    unit.write_text(text)
    done = verify(unit, user, tmp_path)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "", done.stderr + done.stdout


@needs_analyze
def test_kiosk_session_target_passes_verify(tmp_path: Path) -> None:
    unit = tmp_path / "kiosk-session.target"
    shutil.copy(ROOT / "deploy" / "kiosk-session.target", unit)
    done = verify(unit, True, tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr


@needs_analyze
def test_verify_does_report_a_bad_key(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key is a stderr line, with exit status 0."""
    unit = tmp_path / "latent-mirror.service"
    unit.write_text(run_service("unit", "--user").stdout.replace("WatchdogSec=", "WatchDogSec="))
    done = verify(unit, True, tmp_path)
    assert "Unknown key 'WatchDogSec'" in done.stderr


@needs_analyze
def test_paths_with_spaces_and_percent_are_escaped(tmp_path: Path) -> None:
    """A checkout in '/home/gallery/Latent Mirror 100%' must still give one valid ExecStart."""
    root = tmp_path / "Latent Mirror 100%"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (root / "run_installation.py").symlink_to(ROOT / "run_installation.py")
    (root / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "installation.toml", root / "deploy")
    out = run_service("unit", "--user", "--root", str(root))
    assert out.returncode == 0, out.stderr
    assert f'ExecStart="{root}/.venv/bin/python"'.replace("%", "%%") in out.stdout
    unit = tmp_path / "latent-mirror.service"
    unit.write_text(out.stdout)
    done = verify(unit, True, tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_shipped_template_renders_to_itself_for_opt() -> None:
    """deploy/latent-mirror.service is what the module fills in: rendering it for its own root is a no-op."""
    target = service.Target("latent-mirror", True, Path("/opt/latent-mirror"), Path(service.TEMPLATE_CONFIG))
    assert service.render(target) == service.TEMPLATE.read_text()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["unit", "--config", "/nonexistent/x.toml"], "--config /nonexistent/x.toml: no such file"),
        (["unit", "--root", "/"], "--root /: /.venv/bin/python not found (run ./run once to create it)"),
        (["unit", "--name", "a b"], "--name 'a b': use letters"),
        (["unit", "--config", "BAD"], "config error: "),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    if "BAD" in args:
        bad = tmp_path / "bad.toml"
        bad.write_text("[latent]\nspeed = 500\n")
        args = [str(bad) if a == "BAD" else a for a in args]
        says = f"config error: {bad}: latent.speed = 500"
    out = run_service(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and says in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_install_and_uninstall_user_unit(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    path = tmp_path / "config" / "systemd" / "user" / "latent-mirror.service"
    dry = run_service("install", "--user", "--dry-run", env=env)
    assert dry.returncode == 0 and not path.exists() and f"would write {path}" in dry.stdout
    out = run_service("install", "--user", env=env)
    assert out.returncode == 0, out.stderr
    assert path.read_text() == run_service("unit", "--user").stdout
    assert "systemctl --user enable --now latent-mirror.service" in out.stdout.splitlines()[3]
    assert "journalctl --user -u latent-mirror.service -f" in out.stdout
    out = run_service("uninstall", "--user", env=env)
    assert out.returncode == 0 and not path.exists(), out.stderr
    assert "systemctl --user disable --now latent-mirror.service" in out.stdout
    again = run_service("uninstall", "--user", env=env)
    assert again.returncode == 0 and f"not installed: {path}" in again.stdout


def test_system_install_where_it_cannot_write_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setattr(service, "SYSTEM_DIR", blocker / "system")
    assert service.main(["install"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"engine.service: cannot write {blocker}/system/latent-mirror.service: ")
    assert "sudo, or --user" in err and len(err.splitlines()) == 1


def test_system_install_writes_a_unit_for_the_sudo_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(service, "SYSTEM_DIR", tmp_path)
    monkeypatch.setenv("SUDO_USER", "gallery")
    assert service.main(["install", "--name", "latent-mirror-2"]) == 0
    text = (tmp_path / "latent-mirror-2.service").read_text()
    assert "User=gallery" in text.splitlines() and "WantedBy=multi-user.target" in text
    assert "  systemctl enable --now latent-mirror-2.service" in capsys.readouterr().out
