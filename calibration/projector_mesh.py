"""The projector warp's geometry, on the CPU: corner-pin homography, Catmull-Rom mesh, tessellation.

A picture coordinate (u, v) (0..1, top-left origin) goes through two maps. The mesh S is a Catmull-Rom
surface through an N×M grid of control points in "pinned space" (the unit square before the corner
pin; the default grid is the identity); the corner pin H maps pinned space onto the four output
corners. Output = H(S(u, v)), in output fractions (0, 0 top-left). Catmull-Rom passes through its
control points, so the picture's grid point (i/(N-1), j/(M-1)) lands exactly on control point (i, j):
what the artist drags is where that part of the picture goes.

The GPU gets S tessellated finely (a vertex per `sub`-th of a cell) and applies H itself as a
homogeneous clip position, so the corner pin is exact (perspective-correct interpolation) and only the
mesh is piecewise linear between vertices a few pixels apart.
"""

from __future__ import annotations

import numpy as np

UNIT_CORNERS = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))  # top-left, top-right, bottom-right, …
SUBDIVISIONS = 16  # tessellated vertices per grid cell side: under a pixel of spline error at 1080p
MAX_SIDE = 256  # tessellated quads along one side at most, whatever the grid
# The drawn mesh's straight pieces stay this close to the spline (pinned-square units): 1/8000 is a
# quarter of a pixel at 1920 wide, half of one at 4K.
TOLERANCE = 1.0 / 8000


def homography(corners) -> np.ndarray:
    """The 3×3 map taking the unit square's corners (TL, TR, BR, BL) onto `corners`, with w > 0
    inside the square (so the GPU never sees a negative w). Raises ValueError when degenerate."""
    dst = np.asarray(corners, np.float64).reshape(4, 2)
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for k, ((x, y), (X, Y)) in enumerate(zip(UNIT_CORNERS, dst)):
        a[2 * k] = (x, y, 1, 0, 0, 0, -X * x, -X * y)
        a[2 * k + 1] = (0, 0, 0, x, y, 1, -Y * x, -Y * y)
        b[2 * k], b[2 * k + 1] = X, Y
    try:
        h = np.append(np.linalg.solve(a, b), 1.0).reshape(3, 3)
    except np.linalg.LinAlgError:
        raise ValueError("the corners are degenerate (three on one line)") from None
    if not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-12:
        raise ValueError("the corners are degenerate (three on one line)")
    return h if h[2] @ (0.5, 0.5, 1.0) > 0 else -h


def apply_h(h: np.ndarray, pts) -> np.ndarray:
    """Points (…×2) through a homography."""
    p = np.asarray(pts, np.float64)
    q = p @ h[:, :2].T + h[:, 2]
    return q[..., :2] / q[..., 2:3]


def default_grid(cols: int, rows: int) -> np.ndarray:
    """The identity mesh: rows × cols × 2 evenly spaced points of the unit square."""
    xs, ys = np.meshgrid(np.linspace(0.0, 1.0, cols), np.linspace(0.0, 1.0, rows))
    return np.stack([xs, ys], axis=-1)


def _weights(t: np.ndarray) -> np.ndarray:
    """Uniform Catmull-Rom weights of the four points around each t in 0..1 (shape …×4)."""
    t2, t3 = t * t, t * t * t
    return 0.5 * np.stack([-t3 + 2 * t2 - t, 3 * t3 - 5 * t2 + 2, -3 * t3 + 4 * t2 + t, t3 - t2], axis=-1)


def _padded(grid: np.ndarray) -> np.ndarray:
    """The grid with one phantom row/column each side, extrapolated linearly, so the spline
    reproduces a linear grid exactly up to its border (the identity mesh is the identity map)."""
    g = np.asarray(grid, np.float64)
    g = np.concatenate([2 * g[:1] - g[1:2], g, 2 * g[-1:] - g[-2:-1]], axis=0)
    return np.concatenate([2 * g[:, :1] - g[:, 1:2], g, 2 * g[:, -1:] - g[:, -2:-1]], axis=1)


def surface(grid: np.ndarray, u, v) -> np.ndarray:
    """S(u, v): the Catmull-Rom surface through `grid` (rows × cols × 2) at picture coordinates."""
    grid = np.asarray(grid, np.float64)
    rows, cols = grid.shape[:2]
    u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
    su, sv = np.clip(u, 0, 1) * (cols - 1), np.clip(v, 0, 1) * (rows - 1)
    i = np.minimum(np.floor(su).astype(int), cols - 2)
    j = np.minimum(np.floor(sv).astype(int), rows - 2)
    wu, wv = _weights(su - i), _weights(sv - j)
    g = _padded(grid)
    out = np.zeros((*u.shape, 2))
    for a in range(4):  # row offsets j-1..j+2 (padded index j+a)
        for b in range(4):
            out += (wv[..., a] * wu[..., b])[..., None] * g[j + a, i + b]
    return out


def warp_point(corners, grid, u, v) -> np.ndarray:
    """Where picture coordinate (u, v) lands, in output fractions: H(S(u, v))."""
    return apply_h(homography(corners), surface(grid, u, v))


def tessellate(
    grid: np.ndarray, sub: int = SUBDIVISIONS, us: np.ndarray | None = None, vs: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """A mesh for the GPU: vertices (K×4: pinned x, y, picture u, v) and triangle indices.

    The vertex lattice is `us` × `vs` (picture coordinates), by default `sub` per cell side; also
    returns its (columns, rows), for the fold check."""
    rows, cols = np.asarray(grid).shape[:2]
    if us is None:
        us = np.linspace(0.0, 1.0, min(MAX_SIDE, (cols - 1) * sub) + 1)
    if vs is None:
        vs = np.linspace(0.0, 1.0, min(MAX_SIDE, (rows - 1) * sub) + 1)
    nu, nv = len(us), len(vs)
    u, v = np.meshgrid(us, vs)
    q = surface(grid, u, v)
    verts = np.concatenate([q, u[..., None], v[..., None]], axis=-1).reshape(-1, 4).astype(np.float32)
    k = np.arange(nu * nv, dtype=np.uint32).reshape(nv, nu)
    a, b, c, d = k[:-1, :-1], k[:-1, 1:], k[1:, 1:], k[1:, :-1]  # TL TR BR BL of each small quad
    idx = np.stack([a, b, c, a, c, d], axis=-1).reshape(-1)
    return verts, idx, (nu, nv)


def lattice(grid: np.ndarray, tolerance: float = TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """The picture coordinates of the drawn mesh's columns and rows: per column (row) of cells, the
    fewest subdivisions (1, 2, 4 … SUBDIVISIONS) whose straight pieces stay within `tolerance` of the
    spline. A flat or gently bent mesh gets a few large triangles, a strongly bent one more: on a CPU
    rasteriser (llvmpipe) every small triangle costs, while the lattice, unlike a per-cell choice, can
    never leave a crack between neighbouring cells."""
    g = np.asarray(grid, np.float64)
    rows, cols = g.shape[:2]
    fine = SUBDIVISIONS
    u, v = np.meshgrid(np.linspace(0, 1, (cols - 1) * fine + 1), np.linspace(0, 1, (rows - 1) * fine + 1))
    q = surface(g, u, v)  # the spline, `fine` samples per cell side

    def axis(q: np.ndarray, cells: int) -> np.ndarray:  # q: along × across × 2, split along axis 0
        t = np.arange(fine + 1)
        out = []
        for c in range(cells):
            seg = q[c * fine : (c + 1) * fine + 1]
            sub = 1
            while sub < fine:
                step = fine // sub
                i = np.minimum(t // step, sub - 1)
                w = ((t - i * step) / step)[:, None, None]
                lin = seg[i * step] * (1 - w) + seg[(i + 1) * step] * w
                if np.abs(lin - seg).max() <= tolerance:
                    break
                sub *= 2
            out.append(np.linspace(c / cells, (c + 1) / cells, sub + 1)[:-1])
        return np.append(np.concatenate(out), 1.0)

    return axis(q.transpose(1, 0, 2), cols - 1), axis(q, rows - 1)


def draw_mesh(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vertices and indices the warp pass draws (an adaptive lattice, see `lattice`)."""
    us, vs = lattice(grid)
    verts, idx, _ = tessellate(grid, us=us, vs=vs)
    return verts, idx


def _turns(quads: np.ndarray) -> np.ndarray:
    """The cross product at each corner of quads (…×4×2, in order TL TR BR BL): all > 0 for a
    convex quad oriented like the unit square in y-down coordinates."""
    e = np.roll(quads, -1, axis=-2) - quads
    en = np.roll(e, -1, axis=-2)
    return e[..., 0] * en[..., 1] - e[..., 1] * en[..., 0]


def quad_turns(corners) -> np.ndarray:
    """The four corner turns of one quad (TL TR BR BL): same sign and nonzero = convex."""
    return _turns(np.asarray(corners, np.float64).reshape(4, 2))


def first_fold(grid: np.ndarray) -> tuple[str, int, int] | None:
    """The first place the mesh folds over itself, or None.

    ("cell", column, row): a control cell that is not a convex quad oriented like the grid; ("mesh",
    column, row): the control cells are fine but the spline between them overshoots and folds (the
    tessellated quad's cell is named)."""
    g = np.asarray(grid, np.float64)
    cells = np.stack([g[:-1, :-1], g[:-1, 1:], g[1:, 1:], g[1:, :-1]], axis=-2)
    bad = np.argwhere(np.any(_turns(cells) <= 1e-12, axis=-1))
    if len(bad):
        r, c = bad[0]
        return ("cell", int(c), int(r))
    verts, _, (nu, nv) = tessellate(g)
    q = verts[:, :2].astype(np.float64).reshape(nv, nu, 2)
    small = np.stack([q[:-1, :-1], q[:-1, 1:], q[1:, 1:], q[1:, :-1]], axis=-2)
    bad = np.argwhere(np.any(_turns(small) <= 0.0, axis=-1))
    if len(bad):
        r, c = bad[0]
        rows, cols = g.shape[:2]
        return ("mesh", int(c * (cols - 1) // (nu - 1)), int(r * (rows - 1) // (nv - 1)))
    return None


def resample(grid: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """The same surface carried by a grid of another size (changing --grid keeps the shape)."""
    u, v = np.meshgrid(np.linspace(0.0, 1.0, cols), np.linspace(0.0, 1.0, rows))
    return surface(grid, u, v)
