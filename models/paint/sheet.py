"""Contact sheet of the families: one labelled row each, for eyes and for the README."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from models.paint.families import FAMILIES, paint_family, to_uint8

LABEL_W = 130


def contact_sheet(
    path: Path, per_row: int = 6, tile: int = 128, size: int = 256, seed: int = 0, device: str = "cpu"
) -> Path:
    """Write a PNG with `per_row` images of every family, painted at `size` and shown at `tile` px."""
    dev = torch.device(device)
    gap = 4
    w = LABEL_W + per_row * (tile + gap)
    h = len(FAMILIES) * (tile + gap) + gap
    sheet = Image.new("RGB", (w, h), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for row, name in enumerate(FAMILIES):
        imgs = to_uint8(paint_family(name, seed, per_row, size, dev))
        y = gap + row * (tile + gap)
        draw.text((8, y + tile // 2 - 6), name, fill=(230, 230, 230))
        for i, img in enumerate(imgs):
            pic = Image.fromarray(np.ascontiguousarray(img)).resize((tile, tile), Image.LANCZOS)
            sheet.paste(pic, (LABEL_W + i * (tile + gap), y))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)
    return path
