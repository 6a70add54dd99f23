"""The settings of unattended operation: the HTTP status port, opening hours, the picture watchdog
and the log file.

They are what lets a piece run for months with nobody at the machine, and they grow together (the
staff's panel, new watchdog faults); engine.config re-exports them and builds them from [http],
[schedule], [watchdog] and [log] like every other section, ranges and validate() included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config_meta import rng
from engine.control.osc.safety import is_loopback_host
from engine.hostport import parse_listen


@dataclass(frozen=True)
class HttpSettings:
    """The engine's HTTP port: /status and /metrics for remote monitoring (the staff panel later)."""

    listen: str = "off"  # HOST:PORT, or "off"; beyond loopback it needs a password
    password: str = ""  # HTTP basic auth (any user name) when listening beyond loopback

    def validate(self) -> None:
        """The status names the artwork's camera, scene and model: beyond loopback only with a password."""
        try:
            listen = parse_listen(self.listen)
        except ValueError:
            raise ValueError(
                f"listen = '{self.listen}' must look like HOST:PORT (e.g. 127.0.0.1:8080), or off"
            ) from None
        if listen and not is_loopback_host(listen[0]) and not self.password:
            raise ValueError(
                f"listen = '{self.listen}' reaches beyond this machine: set http.password "
                "(HTTP basic auth), or listen on 127.0.0.1"
            )


@dataclass(frozen=True)
class ScheduleSettings:
    """Opening hours: outside them the piece fades to black and idles."""

    days: str = "mon-sun"  # e.g. "tue-sun", "mon,wed,fri"
    open: str = ""  # "HH:MM" local time; "" with close "" = always open
    close: str = ""  # "HH:MM"; may be past midnight (open 18:00, close 02:00)
    timezone: str = ""  # IANA name, e.g. "Europe/Berlin"; "" = the machine's
    wake_early_s: float = field(default=60.0, metadata=rng(0, 3600, "wake this long before opening"))
    fade_s: float = field(default=5.0, metadata=rng(0, 600, "fade to / from black"))


@dataclass(frozen=True)
class WatchdogSettings:
    """The watchdog that looks at the picture, not only at the process."""

    enabled: bool = True
    check_every_s: float = field(default=1.0, metadata=rng(0.1, 60, "seconds between checks"))
    black_s: float = field(default=10.0, metadata=rng(1, 3600, "black/NaN picture this long is a fault"))
    frozen_s: float = field(default=10.0, metadata=rng(1, 3600, "unchanging picture while the latent moves"))
    stage_s: float = field(default=10.0, metadata=rng(1, 3600, "a stage silent this long is a fault"))
    memory_mb: float = field(default=4096.0, metadata=rng(64, 10**6, "RSS ceiling in MB"))


@dataclass(frozen=True)
class LogSettings:
    """Where the engine logs: journald-friendly lines on stdout, and a rotating file."""

    file: str = ""  # "" = no file; e.g. "~/.local/state/latent-mirror/engine.log"
    max_mb: float = field(default=10.0, metadata=rng(0.1, 10_000, "size of one log file"))
    backups: int = field(default=5, metadata=rng(0, 100, "rotated files kept"))
