"""Procedural painterly training data: ten labelled families of images painted by torch code.

python -m models.paint --out data/paint --count 20000 --size 256 --seed 0 --workers 2
python -m models.paint --contact-sheet docs/dataset_samples.png
"""

from models.paint.dataset import DatasetError, load_dataset, write_dataset
from models.paint.families import FAMILIES, paint_batch

__all__ = ["FAMILIES", "DatasetError", "load_dataset", "paint_batch", "write_dataset"]
