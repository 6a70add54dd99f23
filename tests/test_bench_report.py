"""The bench's report: real PNG plots of the run's per-frame data, and --compare between two runs."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine import bench, bench_report
from engine.bench_report import PLOT_PX, direction, format_compare

OLD = {
    "offline": {"mode": "offline", "presented_fps": 10.0, "latency_ms_p50": 0.0, "provider": "cpu"},
    "realtime": {
        "mode": "realtime",
        "presented_fps": 30.0,
        "fresh_images_per_s": 20.0,
        "latency_ms_p50": 200.0,
        "latency_ms_p95": 300.0,
        "repeated": 40,
        "provider": "cpu",
        "gone_key": 1.0,
    },
    "ratio_presented": 3.0,
    "frames": 300,
    "plots": {"latency": "/old/place.png"},
}
NEW = {
    "offline": {"mode": "offline", "presented_fps": 10.0, "latency_ms_p50": 0.0, "provider": "cuda"},
    "realtime": {
        "mode": "realtime",
        "presented_fps": 25.0,
        "fresh_images_per_s": 24.0,
        "latency_ms_p50": 100.0,
        "latency_ms_p95": 330.0,
        "repeated": 40,
        "provider": "cpu",
    },
    "ratio_presented": 2.5,
    "frames": 600,
    "response": {"start_ms": 120.0, "half_ms": 300.0, "start_ms_each": [110.0, 130.0]},
}


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's own header: the file is a PNG, not just named one."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def assert_real_plot(path: Path) -> None:
    assert png_size(path) == PLOT_PX
    image = cv2.imread(str(path))
    assert image is not None and image.shape == (PLOT_PX[1], PLOT_PX[0], 3)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 8  # axes, labels and data, not a blank page


def test_plots_of_per_frame_data(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    latency = 120 + 30 * rng.standard_normal(500)
    paths = bench_report.plot_paths(tmp_path / "sub" / "run")
    assert paths["latency"] == tmp_path / "sub" / "run-latency.png"
    bench_report.latency_histogram(latency, paths["latency"])
    bench_report.frame_time_plot({"realtime": 33 + rng.random(400), "offline": []}, paths["frames"], 30.0)
    ms = np.linspace(-500, 2000, 80)
    share = np.clip((ms - 100) / 400, 0, 1)
    bench_report.response_plot([(ms, share)], {"start_ms": 110.0, "half_ms": 300.0}, paths["response"])
    legs = {"perception": {"p50": 30.0, "p95": 45.0}, "generator": {"p50": 20.0, "p95": 26.0}}
    bench_report.latency_path_plot(legs, paths["path"])
    for p in paths.values():
        assert_real_plot(p)
    empty = bench_report.latency_histogram([], tmp_path / "empty.png")  # offline runs have no latency
    assert png_size(empty) == PLOT_PX


def write(tmp_path: Path, name: str, doc: object) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def compare_lines(tmp_path: Path, capsys, old: object, new: object) -> list[str]:
    a, b = write(tmp_path, "old.json", old), write(tmp_path, "new.json", new)
    assert bench.main(["--compare", str(a), str(b)]) == 0
    return capsys.readouterr().out.splitlines()[1:]


def test_compare_prints_each_change_with_its_direction(tmp_path: Path, capsys) -> None:
    out = compare_lines(tmp_path, capsys, OLD, NEW)
    lines = {line.split()[0]: line for line in out if not line.startswith("only in")}
    fps = lines["realtime.presented_fps"].split()
    assert fps[1:5] == ["30", "→", "25", "-5"] and fps[5] == "-16.7%" and fps[6] == "worse"
    assert "(higher is better)" in lines["realtime.presented_fps"]
    assert "better (higher is better)" in lines["realtime.fresh_images_per_s"]
    lat = lines["realtime.latency_ms_p50"]
    assert "200 → 100" in lat and "-100" in lat and "-50.0%" in lat and "better (lower is better)" in lat
    assert "worse (lower is better)" in lines["realtime.latency_ms_p95"]
    assert lines["realtime.repeated"].split()[-1] == "same"
    assert lines["ratio_presented"].split()[6] == "worse"
    assert "changed" in lines["frames"] and "better" not in lines["frames"]  # no direction for a count
    assert "n/a" in lines["offline.latency_ms_p50"] and lines["offline.latency_ms_p50"].endswith("same")
    assert "cpu → cuda" in lines["offline.provider"] and lines["offline.provider"].endswith("changed")
    assert lines["realtime.provider"].endswith("same")
    only_old = [v for v in out if v.startswith("only in") and "old.json:" in v]
    only_new = [v for v in out if v.startswith("only in") and "new.json:" in v]
    assert len(only_old) == len(only_new) == 1 and only_old[0].endswith(": realtime.gone_key")
    assert only_new[0].endswith(": response.start_ms, response.half_ms")
    text = "\n".join(out)
    assert "start_ms_each" not in text and "plots" not in text  # per-step lists, file paths: not figures


def test_compare_with_nothing_in_common_says_so(tmp_path: Path, capsys) -> None:
    out = "\n".join(compare_lines(tmp_path, capsys, {"a": 1}, {"b": {"c": 2}}))
    assert "(no key in both files)" in out and "old.json: a" in out and "new.json: b.c" in out


@pytest.mark.parametrize(
    ("content", "says"),
    [(None, "no such file"), ("{not json", "not JSON"), ("[1, 2]", "expected a JSON object")],
)
def test_a_bad_compare_file_is_one_line_naming_it(tmp_path: Path, capsys, content, says) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    good = write(tmp_path, "good.json", NEW)
    assert bench.main(["--compare", str(bad), str(good)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and says in err
    assert bench_report.main([str(good), str(bad)]) == 2  # python -m engine.bench_report OLD NEW
    assert str(bad) in capsys.readouterr().err


def test_direction_of_the_bench_keys() -> None:
    higher = (
        "realtime.presented_fps",
        "realtime.fresh_images_per_s",
        "realtime.perception_hz",
        "ratio_fresh",
    )
    lower = ("realtime.latency_ms_p95", "offline.frame_ms_p99", "response.half_ms", "realtime.repeated")
    assert all(direction(k) == 1 for k in higher)
    assert all(direction(k) == -1 for k in lower + ("realtime.dropped_source_frames",))
    assert direction("frames") == direction("size") == direction("response.steps") == 0


def test_format_compare_takes_documents_directly() -> None:
    text = format_compare({"x_ms": 2.0}, {"x_ms": 1.0}, "before", "after")
    assert text.splitlines()[0].split() == ["before", "→", "after", "change", "rel"]
    assert "better (lower is better)" in text


@pytest.mark.slow
def test_bench_writes_plots_next_to_its_json_and_keeps_its_keys(tmp_path: Path, capsys) -> None:
    old = write(tmp_path, "old.json", OLD)
    out = tmp_path / "runs" / "b.json"
    out.parent.mkdir()
    argv = ["--frames", "20", "--size", "160x90", "--json", str(out), "--compare", str(old)]
    assert bench.main(argv) == 0
    result = json.loads(out.read_text())
    for mode in ("offline", "realtime"):  # today's keys, unchanged
        keys = ("presented_fps", "fresh_images_per_s", "latency_ms_p50", "latency_ms_p95", "frame_ms_p99")
        assert set(keys) <= set(result[mode])
    assert result["realtime"]["presented_fps"] > 0 and result["realtime"]["latency_ms_p95"] > 0
    legs = [k for k in result["realtime"] if k.startswith("path_")]  # where the latency went, leg by leg
    assert len(legs) == 7 and result["realtime"]["path_generator_ms_p50"] > 0
    cpu = {k: v for k, v in result["realtime"].items() if k.startswith("cpu_")}  # where the cores went
    assert cpu["cpu_total_cores"] > 0 and cpu["cpu_generator_cores"] > 0 and cpu["cpu_render_cores"] > 0
    for kind in ("latency", "frames", "path"):
        path = tmp_path / "runs" / f"b-{kind}.png"
        assert result["plots"][kind] == str(path)
        assert_real_plot(path)
    printed = capsys.readouterr().out
    assert "realtime.presented_fps" in printed and "(higher is better)" in printed
