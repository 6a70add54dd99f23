"""Output files the engine writes (recording, stats, log): checked at start, in one line.

A path that cannot be written must stop the start with the key that names it, not surface hours
later as a traceback after the whole run, or as a recorder that freezes the picture.
"""

from __future__ import annotations

import os
from pathlib import Path


class PathError(ValueError):
    """An output path that can never be written; the message names the key and the path."""


def check_writable_file(path: str | Path, key: str, suffixes: tuple[str, ...] = ()) -> Path:
    p = Path(path).expanduser()
    if suffixes and p.suffix.lower() not in suffixes:
        raise PathError(f"{key} = '{path}' must end in {' or '.join(suffixes)}")
    if p.is_dir():
        raise PathError(f"{key} = '{path}' is a folder, not a file")
    folder = p.parent
    if not folder.is_dir():
        raise PathError(f"{key} = '{path}': folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise PathError(f"{key} = '{path}': no permission to write there")
    return p
