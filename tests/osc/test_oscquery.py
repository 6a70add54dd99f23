"""OSCQuery: the parameter tree as HTTP JSON, built from the registry, read-only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from engine.control.osc.query import OscQueryServer
from engine.params import ParamRegistry, ParamSpec


@pytest.fixture
def query():
    reg = ParamRegistry(
        [ParamSpec("mirror.gain", 1.0, 0.0, 3.0, "overall strength"), ParamSpec("x.n", 2, 0, 8, "n", "int")]
    )
    srv = OscQueryServer("127.0.0.1", 0, reg, osc_port=9000, scenes=lambda: ["mirror"])
    srv.start()
    yield srv, reg
    srv.close()


def get(srv: OscQueryServer, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{path}", timeout=5) as r:
        return r.status, json.loads(r.read() or b"null")


def test_tree_host_info_and_values(query) -> None:
    srv, reg = query
    status, root = get(srv, "/")
    gain = root["CONTENTS"]["param"]["CONTENTS"]["mirror.gain"]
    assert status == 200 and gain["FULL_PATH"] == "/param/mirror.gain" and gain["TYPE"] == "f"
    assert gain["RANGE"] == [{"MIN": 0.0, "MAX": 3.0}] and gain["DESCRIPTION"] == "overall strength"
    assert root["CONTENTS"]["scene"]["CONTENTS"]["select"]["RANGE"] == [{"VALS": ["mirror"]}]
    assert root["CONTENTS"]["param"]["CONTENTS"]["x.n"]["TYPE"] == "i"
    reg.set("mirror.gain", 2.5)
    assert get(srv, "/param/mirror.gain?VALUE") == (200, {"VALUE": [2.5]})
    _, info = get(srv, "/?HOST_INFO")
    assert info["OSC_PORT"] == 9000 and info["OSC_TRANSPORT"] == "UDP"
    with pytest.raises(urllib.error.HTTPError) as e:
        get(srv, "/param/nope")
    assert e.value.code == 404
