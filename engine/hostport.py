"""HOST:PORT, the one way every port of the engine is written: OSC in and out, HTTP status, config.

One parser, so "[::1]:9000" means the same thing in osc.listen, osc.out and http.listen, and a typo
is reported with the same line wherever it is made. IPv6 addresses go in brackets, as in URLs:
"::1:9000" could be the address ::1:9000 or ::1 at port 9000, and guessing wrong would send a
piece's sound to nowhere without a word. Port 0 means "any free port", which only makes sense
when listening; a target at port 0 is refused.

Names are resolved once, at start (`resolve`), never per packet: a gallery machine has no network
service to ask at run time, and a lookup must not stall a frame.
"""

from __future__ import annotations

import socket

OFF = ("", "off", "none")


def parse_hostport(text: str, what: str, example: str, *, listen: bool = False) -> tuple[str, int]:
    """'HOST:PORT' or '[IPV6]:PORT' → (host, port); ValueError naming `what` and `text` otherwise."""
    shape = f"{what} '{text}' must look like HOST:PORT, e.g. {example}"
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(shape)
    if host.startswith("[") or host.endswith("]"):
        if not (host.startswith("[") and host.endswith("]")) or ":" not in host:
            raise ValueError(f"{shape}; brackets hold an IPv6 address, e.g. [::1]:9000")
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{what} '{text}': put an IPv6 address in brackets, e.g. [::1]:9000")
    if not port.isascii() or not port.isdigit():
        raise ValueError(f"{what} '{text}': port '{port}' is not a number")
    lo = 0 if listen else 1
    if not lo <= int(port) <= 65535:
        raise ValueError(f"{what} '{text}': port {int(port)} is out of range {lo}..65535")
    return host, int(port)


def parse_listen(text: str, what: str = "listen address") -> tuple[str, int] | None:
    """Where a server listens: 'HOST:PORT' (port 0 = any free port), or 'off' / '' → None."""
    if text.strip().lower() in OFF:
        return None
    return parse_hostport(text, what, "127.0.0.1:9000", listen=True)


def parse_target(text: str) -> tuple[str, int]:
    """Where OSC goes: 'HOST:PORT' with a real port (1..65535)."""
    return parse_hostport(text, "OSC target", "127.0.0.1:57120")


def resolve(host: str, port: int) -> tuple[socket.AddressFamily, tuple]:
    """(family, sockaddr) for a UDP socket; OSError (socket.gaierror) when the name is unknown."""
    return prefer_ipv4(socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_DGRAM))


def prefer_ipv4(infos: list[tuple]) -> tuple[socket.AddressFamily, tuple]:
    """Of getaddrinfo's answers, the first IPv4 one if any: a name with both an IPv4 and an IPv6
    address ("localhost" on many systems) must keep reaching scsynth, Pd or Max, which listen on
    127.0.0.1 only by default. An IPv6 literal has only its IPv6 answer."""
    family, _, _, _, addr = min(infos, key=lambda info: info[0] != socket.AF_INET)
    return family, addr
