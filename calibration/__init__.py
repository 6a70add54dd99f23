"""Fitting the piece to a room: lens, camera↔screen, projector warp and blend, zone, the room's ranges.

Each step (`python -m calibration <step>`) writes one JSON file into an installation folder
(`calibration/room/` unless `--room DIR`); the engine reads the folder with `--calibration DIR` or
`[run] calibration`. Calibration is data, never code: a missing file means no correction for that
step, and a bad or stale one stops the start with one line naming the file and key (exit 2).
"""
