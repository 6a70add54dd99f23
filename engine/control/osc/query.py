"""OSCQuery: the parameter tree as HTTP JSON, so controllers can browse what the engine offers.

Chataigne, Open Stage Control, Vezér and TouchDesigner's OSCQuery client ask
`GET /` for the namespace and `GET /?HOST_INFO` for where to send OSC. The
tree is built per request from the registry (names, types, ranges, docs and
current values), so it is never out of date; a styled model's styles are listed
under /style as well as /param/style.<name>. Read-only: values are set over
OSC, never over HTTP. Served by the engine's one HTTP mechanism (engine.control.http);
the same allow-list as OSC in decides who may ask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlsplit

from engine.control.http import HttpThread, JsonHandler
from engine.control.osc.dispatch import ADDRESSES
from engine.control.osc.safety import AllowList
from engine.params import ParamRegistry, ParamSpec
from engine.styles import PREFIX as STYLE

log = logging.getLogger(__name__)

ACCESS_READ_WRITE, ACCESS_WRITE = 3, 2
EXTENSIONS = ("ACCESS", "VALUE", "RANGE", "DESCRIPTION", "TYPE", "FULL_PATH", "CONTENTS")
_OSCQ_TYPE = {"f|i|T|F": "f", "s": "s", "i": "i", "f": "f", "f…": "f", "[i]": "i", "[f|i]": "f", "": ""}


def _container(path: str) -> dict:
    return {"FULL_PATH": path, "ACCESS": 0, "CONTENTS": {}}


def _param_node(spec: ParamSpec, value: float, path: str) -> dict:
    lo, hi = (int(spec.lo), int(spec.hi)) if spec.kind != "float" else (spec.lo, spec.hi)
    return {
        "FULL_PATH": path,
        "TYPE": "f" if spec.kind == "float" else "i",
        "VALUE": [int(value) if spec.kind != "float" else value],
        "RANGE": [{"MIN": lo, "MAX": hi}],
        "DESCRIPTION": spec.doc,
        "ACCESS": ACCESS_READ_WRITE,
    }


def build_tree(registry: ParamRegistry, scenes: Iterable[str]) -> dict:
    root = _container("/")
    root["DESCRIPTION"] = "latent-mirror engine (docs/osc.md)"
    params = root["CONTENTS"].setdefault("param", _container("/param"))
    values = registry.snapshot()
    for spec in registry.specs():
        params["CONTENTS"][spec.name] = _param_node(spec, values[spec.name], f"/param/{spec.name}")
        if spec.name.startswith(STYLE):  # the model's styles, also under /style/<name>: one node each
            styles = root["CONTENTS"].setdefault("style", _container("/style"))
            name = spec.name[len(STYLE) :]
            styles["CONTENTS"][name] = _param_node(spec, values[spec.name], f"/style/{name}")
    for address, (types, doc) in ADDRESSES.items():
        if address.startswith(("/param/", "/style/")):
            continue
        node = root
        parts = address.strip("/").split("/")
        for i, part in enumerate(parts[:-1]):
            node = node["CONTENTS"].setdefault(part, _container("/" + "/".join(parts[: i + 1])))
        leaf = {"FULL_PATH": address, "DESCRIPTION": doc, "ACCESS": ACCESS_WRITE}
        if _OSCQ_TYPE.get(types):
            leaf["TYPE"] = _OSCQ_TYPE[types]
        if address == "/scene/select":
            leaf["RANGE"] = [{"VALS": sorted(scenes)}]
        node["CONTENTS"][parts[-1]] = leaf
    return root


def find(tree: dict, path: str) -> dict | None:
    node = tree
    for part in [p for p in path.split("/") if p]:
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


class OscQueryServer:
    def __init__(
        self,
        host: str,
        port: int,
        registry: ParamRegistry,
        osc_port: int,
        scenes: Callable[[], Iterable[str]],
        allow: Iterable[str] = (),
        name: str = "latent-mirror",
    ) -> None:
        allowed = AllowList(allow)
        host_info = {
            "NAME": name,
            "OSC_PORT": osc_port,
            "OSC_TRANSPORT": "UDP",
            "EXTENSIONS": dict.fromkeys(EXTENSIONS, True),
        }

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's spelling
                if not allowed(self.client_address[0]):
                    self.reply_json(403, {"error": "not allowed"})
                    return
                url = urlsplit(self.path)
                if url.query == "HOST_INFO":
                    self.reply_json(200, host_info)
                    return
                node = find(build_tree(registry, scenes()), unquote(url.path))
                if node is None:
                    self.reply_json(404, {"error": "no such node"})
                elif url.query:
                    if url.query in node:
                        self.reply_json(200, {url.query: node[url.query]})
                    else:
                        self.reply_json(204, None)
                else:
                    self.reply_json(200, node)

        self._http = HttpThread((host, port), Handler, "oscquery")
        self.port = self._http.address[1]

    def start(self) -> None:
        self._http.start()
        log.info("OSCQuery on http://%s:%d/", self._http.address[0], self.port)

    def close(self) -> None:
        self._http.close()
