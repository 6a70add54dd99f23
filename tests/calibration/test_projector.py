"""projector.json: validation (folds, grid size, blend ranges), the command, the editor's state machine
driven by synthetic events, its overlay rendered headless, and the engine picking its output's entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from calibration import projector_mesh as mesh
from calibration.__main__ import main
from calibration.files import CalibrationError, load
from calibration.projector import STEP, EdgeBlend, OutputWarp, save_entry, validate
from calibration.projector_ui import Editor
from calibration.room import load_room

SIZE = (1280, 720)


def body(**entry) -> dict:
    base = {"corners": [[0, 0], [1, 0], [1, 1], [0, 1]]}
    return {"step": STEP, "format": 1, "outputs": [base | entry]}


def grid_json(grid: np.ndarray) -> dict:
    rows, cols = grid.shape[:2]
    return {"cols": cols, "rows": rows, "points": grid.reshape(-1, 2).tolist()}


def error(data: dict) -> str:
    with pytest.raises(CalibrationError) as e:
        validate(data, "room/projector.json")
    msg = str(e.value)
    assert msg.startswith("room/projector.json: ") and "\n" not in msg
    return msg


# ------------------------------------------------------------------ validation
def test_a_full_entry_round_trips():
    grid = mesh.default_grid(5, 4)
    grid[1, 2] += (0.03, -0.02)
    blend = {"left": {"width": 0.2, "gamma": 2.4, "black": 0.03}}
    cal = validate(body(grid=grid_json(grid), blend=blend, name="left"), "p.json")
    entry = cal.outputs[0]
    assert entry.size == (5, 4) and entry.name == "left"
    assert entry.blend[0] == EdgeBlend(0.2, 2.4, 0.03) and entry.blend[1] == EdgeBlend()
    np.testing.assert_allclose(entry.grid_array(), grid)
    assert validate({"outputs": [entry.to_json()]}, "p.json") == cal
    assert cal.for_output(0) is entry and cal.for_output(3) is entry  # no entry 3: entry 0


def test_no_grid_is_the_corner_pin_alone():
    entry = validate(body(corners=[[0.1, 0], [0.9, 0.1], [1, 1], [0, 0.9]]), "p.json").outputs[0]
    assert entry.size == (2, 2)


def test_folded_mesh_is_one_line_naming_the_cell():
    grid = mesh.default_grid(4, 3)
    grid[1, 1], grid[1, 2] = grid[1, 2].copy(), grid[1, 1].copy()  # two points swapped: a fold
    msg = error(body(grid=grid_json(grid)))
    assert "outputs[0].grid folds over itself at cell (column 1, row 0" in msg


def test_a_spline_that_folds_between_convex_cells_is_caught():
    grid = mesh.default_grid(4, 2)
    grid[:, 1, 0], grid[:, 2, 0] = 0.6, 0.62  # every cell convex; the curve overshoots between them
    assert "the curve between the points" in error(body(grid=grid_json(grid)))


@pytest.mark.parametrize(
    "entry, says",
    [
        ({"grid": {"cols": 4, "rows": 3, "points": [[0, 0]] * 11}}, "grid.points has 11 points"),
        ({"grid": {"cols": 1, "rows": 3, "points": []}}, "grid.cols must be a whole number 2..33"),
        ({"grid": [[0, 0]]}, "grid must be an object"),
        ({"blend": {"left": {"width": 0.6}}}, "blend.left.width = 0.6 is outside 0.0..0.5"),
        ({"blend": {"left": {"width": 0.2, "gamma": 9}}}, "blend.left.gamma = 9 is outside"),
        ({"blend": {"left": {"width": 0.2, "black": -0.1}}}, "blend.left.black = -0.1 is outside"),
        ({"blend": {"middle": {"width": 0.2}}}, "blend.middle is not a side"),
        ({"blend": {"left": {"widht": 0.2}}}, "blend.left must be an object with width"),
        ({"corners": [[0, 0], [0.5, 0.5], [1, 1], [0, 1]]}, "corners is not a convex quadrilateral"),
        ({"corners": [[0, 0], [1, 1], [1, 0], [0, 1]]}, "corners is not a convex quadrilateral"),
        ({"corners": [[0, 0], [1, 0], [1, 1]]}, "corners must be a 4×2 list"),
        ({"corners": [[0, 0], [1, 0], [5, 1], [0, 1]]}, "corners[2] = [5.0, 1.0] is outside -1..2"),
        ({"blnd": {}}, "outputs[0].blnd is not a key"),
    ],
)
def test_bad_entries_are_one_line_naming_the_key(entry, says):
    assert says in error(body(**entry))


def test_outputs_must_be_a_list():
    assert "outputs must be a non-empty list" in error({"outputs": []})


def test_a_mirrored_corner_pin_is_allowed():
    """Rear projection flips the picture: the corners in mirrored order are still a convex quad."""
    entry = validate(body(corners=[[1, 0], [0, 0], [0, 1], [1, 1]]), "p.json").outputs[0]
    np.testing.assert_allclose(mesh.warp_point(entry.corners, entry.grid_array(), 0.25, 0.5), (0.75, 0.5))


# ------------------------------------------------------------------ saving and the command
def test_save_keeps_other_outputs_and_a_fold_overwrites_nothing(tmp_path: Path):
    save_entry(tmp_path, 1, OutputWarp.default(3, 3))
    cal = load(tmp_path, STEP, validate)
    assert len(cal.outputs) == 2 and cal.outputs[1].size == (3, 3)
    before = (tmp_path / "projector.json").read_bytes()
    grid = mesh.default_grid(3, 3)
    grid[1, 1] = (1.4, 1.4)  # dragged far past its neighbours
    with pytest.raises(CalibrationError, match="folds over itself"):
        save_entry(tmp_path, 0, OutputWarp.default(3, 3).with_grid(grid))
    assert (tmp_path / "projector.json").read_bytes() == before


def test_command_sets_grid_and_blend_and_exits_2_on_a_bad_file(tmp_path: Path, capsys):
    room = ["projector", "--room", str(tmp_path), "--no-window"]
    assert main([*room, "--grid", "5x4", "--blend", "left:0.2:2.4"]) == 0
    entry = load(tmp_path, STEP, validate).outputs[0]
    assert entry.size == (5, 4) and entry.blend[0] == EdgeBlend(0.2, 2.4, 0.0)
    assert main([*room, "--blend", "right:0.7"]) == 2
    assert "blend.right.width = 0.7 is outside 0.0..0.5" in capsys.readouterr().err
    data = json.loads((tmp_path / "projector.json").read_text())
    data["outputs"][0]["grid"]["points"][6] = [0.9, 0.9]  # hand-edited into a fold
    (tmp_path / "projector.json").write_text(json.dumps(data))
    before = (tmp_path / "projector.json").read_bytes()
    assert main([*room, "--blend", "top:0.1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "folds over itself" in err and "projector.json" in err
    assert (tmp_path / "projector.json").read_bytes() == before


def test_room_and_engine_config_pick_the_output_entry(tmp_path: Path):
    from engine.config import load_config

    save_entry(tmp_path, 0, OutputWarp.default(2, 2))
    save_entry(tmp_path, 1, OutputWarp.default(4, 4))
    assert load_room(tmp_path).projector.for_output(1).size == (4, 4)
    cfg = load_config(None, {"run": {"calibration": str(tmp_path), "display": 1}})
    assert cfg.room.projector.for_output(cfg.run.display).size == (4, 4)


def test_the_engine_draws_through_its_outputs_entry(tmp_path: Path):
    """[run] calibration with a projector.json: the app's output renders through entry [run] display."""
    from tests.render.conftest import egl_absent

    if egl_absent():
        pytest.skip(egl_absent())
    from engine.app import App
    from engine.config import load_config
    from engine.render.warp_bench import demo_entry

    demo = demo_entry()
    save_entry(tmp_path, 0, OutputWarp.default(2, 2))
    save_entry(tmp_path, 1, demo)
    run = {"calibration": str(tmp_path), "display": 1, "headless": True, "size": "320x180"}
    app = App(load_config(None, {"run": run, "osc": {"listen": "off"}}))
    output = app.open_output(30.0)
    try:
        assert output.renderer.warp is not None and output.renderer.warp.entry == demo
    finally:
        output.close()
    app = App(load_config(None, {"run": {"headless": True, "size": "320x180"}, "osc": {"listen": "off"}}))
    output = app.open_output(30.0)
    try:
        assert output.renderer.warp is None  # no calibration: no pass
    finally:
        output.close()


# ------------------------------------------------------------------ the editor, headless
def editor(tmp_path: Path, entry: OutputWarp | None = None) -> Editor:
    return Editor(entry or OutputWarp.default(4, 3), SIZE, lambda e: save_entry(tmp_path, 0, e))


def test_tab_cycles_and_arrows_nudge_by_one_or_ten_pixels(tmp_path: Path):
    ed = editor(tmp_path)
    for expected in (1, 2, 3, 0):
        ed.key("tab")
        assert ed.selected == expected
    ed.key("tab", shift=True)
    assert ed.selected == 3
    ed.key("tab")  # back to the top-left corner
    start = ed.points_px()[0].copy()
    ed.key("right")
    ed.key("down", shift=True)
    np.testing.assert_allclose(ed.points_px()[0], start + (1, 10))
    np.testing.assert_allclose(ed.entry.corners[0], (1 / SIZE[0], 10 / SIZE[1]))


def test_drag_a_corner_and_a_mesh_point(tmp_path: Path):
    ed = editor(tmp_path)
    ed.mouse_down(SIZE[0] - 5, 3)  # near the top-right corner: grabbed, offset kept
    assert ed.selected == 1 and ed.dragging
    ed.mouse_move(SIZE[0] - 100, 40)
    ed.mouse_up(SIZE[0] - 105, 43)
    np.testing.assert_allclose(ed.points_px()[1], (SIZE[0] - 100, 40))
    ed.mouse_move(0, 0)  # not dragging any more: nothing moves
    np.testing.assert_allclose(ed.points_px()[1], (SIZE[0] - 100, 40))
    # a mesh point: a click on it switches to the mesh; it follows the mouse in output pixels
    target = ed.points_px("mesh")[5].copy()  # column 1, row 1
    ed.mouse_down(*(target + 3))
    assert ed.mode == "mesh" and ed.selected == 5
    ed.mouse_move(*(target + (23, -17)))
    ed.mouse_up()
    np.testing.assert_allclose(ed.points_px()[5], target + (20, -20), atol=1e-9)
    entry = ed.entry
    landed = mesh.warp_point(entry.corners, entry.grid_array(), 1 / 3, 1 / 2) * SIZE
    np.testing.assert_allclose(landed, target + (20, -20), atol=1e-6)  # where that picture point goes


def test_save_reset_and_escape(tmp_path: Path):
    ed = editor(tmp_path)
    ed.key("right", shift=True)
    ed.key("s")
    assert ed.saves == 1 and "saved" in ed.message
    saved = load(tmp_path, STEP, validate).outputs[0]
    assert saved.corners[0] == pytest.approx((10 / SIZE[0], 0.0))
    ed.key("r")
    assert ed.entry.corners == mesh.UNIT_CORNERS
    ed.key("m")
    ed.key("tab")
    ed.key("right", shift=True)
    ed.key("r")  # the mesh flat again
    np.testing.assert_allclose(ed.entry.grid_array(), mesh.default_grid(4, 3))
    ed.key("down")
    ed.key("escape")
    assert ed.result == "left" and ed.saves == 1
    assert load(tmp_path, STEP, validate).outputs[0] == saved  # Esc saved nothing


def test_a_fold_in_the_editor_is_shown_and_never_saved(tmp_path: Path):
    save_entry(tmp_path, 0, OutputWarp.default(4, 3))
    before = (tmp_path / "projector.json").read_bytes()
    ed = editor(tmp_path)
    ed.key("m")
    ed.selected = 5
    steps = 0
    while not ed.problem:  # right, 10 px at a time, until the mesh folds (the neighbour is 427 px away)
        good = ed.shown
        ed.key("right", shift=True)
        steps += 1
    assert 20 < steps <= 43 and "folds over itself" in ed.problem and ed.problem in ed.lines()[-1]
    ed.key("right", shift=True)
    assert ed.shown is good  # the window keeps drawing the last valid warp
    ed.key("s")
    assert ed.saves == 0 and (tmp_path / "projector.json").read_bytes() == before
    for _ in range(steps + 1):
        ed.key("left", shift=True)
    assert ed.problem == "" and ed.shown is not good


def test_editor_overlay_renders_headless(tmp_path: Path):
    from tests.render.conftest import egl_absent

    if egl_absent():
        pytest.skip(egl_absent())
    import cv2

    from engine.render.warp_bench import demo_entry

    entry = demo_entry()
    save_entry(tmp_path, 0, entry)
    before = (tmp_path / "projector.json").read_bytes()
    path = tmp_path / "shot" / "p.png"
    assert main(["projector", "--room", str(tmp_path), "--snapshot", str(path), "--size", "640x360"]) == 0
    assert (tmp_path / "projector.json").read_bytes() == before  # a snapshot saves nothing
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    assert rgb.shape == (360, 640, 3)
    cols, rows = entry.size
    k = (rows // 2) * cols + cols // 2  # the highlighted middle point
    x, y = mesh.apply_h(entry.homography(), entry.grid_array().reshape(-1, 2)[k]) * (640, 360)
    r, g, b = rgb[int(y), int(x)].astype(int)
    assert r > 200 and 100 < g < 180 and b < 60  # orange: the selected point is drawn where it is
    assert rgb[358, 320].max() < 10  # below the keystoned picture: no light
