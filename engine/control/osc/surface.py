"""The engine's OSC ports in one place: OSC in, OSC out and OSCQuery, built from [osc].

The pipeline owns one `OscIO`; it starts the server threads when the app runs
and closes them on shutdown. A port that cannot be bound (another engine
already listens, a typo'd interface) is logged as an error and the piece runs
on without remote control: a projector that stays dark because a controller
port is taken would be the worse failure in a gallery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from engine.config import OscSettings
from engine.control.commands import CommandQueue
from engine.control.http import status_json
from engine.control.osc.dispatch import STATUS_MAX_BYTES
from engine.control.osc.inbound import OscServer
from engine.control.osc.query import OscQueryServer
from engine.control.osc.sender import FrameState, OscOut
from engine.hostport import parse_listen
from engine.params import ParamRegistry

log = logging.getLogger(__name__)


class OscIO:
    def __init__(
        self,
        settings: OscSettings,
        registry: ParamRegistry,
        commands: CommandQueue,
        clock: Callable[[], float],
        scenes: Iterable[str],
        status: Callable[[], dict] | None = None,
    ) -> None:
        self.settings = settings
        # the engine's status dict for /engine/status; may also be set after construction, before start()
        self.status = status
        self.registry = registry
        self.commands = commands
        self.clock = clock
        self.scenes = sorted(scenes)
        for m in settings.map:
            if m.param and not registry.has(m.param):
                known = ", ".join(s.name for s in registry.specs())
                raise ValueError(f"osc.map {m.address}: unknown parameter '{m.param}' (known: {known})")
        self.out = OscOut(settings.all_targets(), registry, settings.map, settings.send_landmarks)
        self.server: OscServer | None = None
        self.query: OscQueryServer | None = None

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """Where OSC in actually listens (the real port when 0 was asked for), or None."""
        return self.server.address if self.server is not None else None

    def start(self) -> None:
        s = self.settings
        listen = parse_listen(s.listen)
        if listen is not None:
            try:
                self.server = OscServer(
                    listen,
                    self.registry,
                    self.commands,
                    self.clock,
                    scenes=self.scenes,
                    allow=s.allow,
                    rate=s.in_rate,
                    mappings=s.map,
                    status=self._status_text if self.status is not None else None,
                )
            except OSError as e:
                log.error("OSC in: cannot listen on %s (%s); running without OSC control", s.listen, e)
            else:
                self.server.start()
                log.info("OSC in on %s:%d", *self.server.address)
        if s.query_port and self.server is not None:
            try:
                self.query = OscQueryServer(
                    self.server.address[0],
                    s.query_port,
                    self.registry,
                    self.server.address[1],
                    lambda: self.scenes,
                    s.allow,
                )
            except OSError as e:
                log.error("OSCQuery: cannot listen on port %d (%s); running without it", s.query_port, e)
            else:
                self.query.start()
        self.out.refresh()  # controllers see every current value once the loop starts

    def _status_text(self) -> str:
        """The status dict as JSON that fits one OSC packet (the biggest fields dropped if need be)."""
        assert self.status is not None
        return status_json(self.status(), STATUS_MAX_BYTES)

    def publish(self, state: FrameState, now: float) -> None:
        self.out.publish(state, now)

    def close(self) -> None:
        if self.query is not None:
            self.query.close()
            self.query = None
        if self.server is not None:
            self.server.close()
            self.server = None
        self.out.close()
