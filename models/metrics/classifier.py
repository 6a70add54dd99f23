"""A small CNN that tells the data's families apart, the judge for coverage and a feature space.

Coverage asks which families a generator's samples look like, so the judge must be trained on the
labelled data itself (no pretrained network can be downloaded, and none knows these families). It
works at 64², where the families differ in composition and texture, and trains in under a minute on
a CPU. It is cached beside the data (`classifier.pt`) with a fingerprint of the images, labels and
split it learned from, so changed data retrains it and its held-out accuracy is always honest.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.metrics.data import LabelledImages, Split, resize

log = logging.getLogger(__name__)
SIZE = 64
CACHE_NAME = "classifier.pt"
FORMAT = "latent-mirror/family-classifier@1"


class FamilyNet(nn.Module):
    """Four stride-2 conv blocks → global average pool → 64-d features → family logits.

    Narrow on purpose: on two CPU cores it is 5× faster than twice the width, and as accurate here."""

    def __init__(self, families: int, width: int = 16) -> None:
        super().__init__()
        chans = [3, width, width * 2, width * 4, width * 4]
        blocks: list[nn.Module] = []
        for cin, cout in zip(chans, chans[1:]):
            blocks += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        self.body = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(chans[-1], families)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass
class Classifier:
    net: FamilyNet
    families: list[str]
    accuracy: float  # on the held-out split
    path: Path | None
    trained_now: bool


def _tensor(images64: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images64).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def fingerprint(data: LabelledImages, parts: Split) -> str:
    h = hashlib.sha1()
    h.update(repr((data.images.shape, data.families)).encode())
    h.update(data.labels.tobytes())
    h.update(parts.held.tobytes())
    h.update(np.ascontiguousarray(data.images[:: max(1, len(data.images) // 64), ::16, ::16]).tobytes())
    return h.hexdigest()


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flips and quarter turns: the families have no up or left, so the judge should not either."""
    if torch.rand(1, generator=gen).item() < 0.5:
        x = x.flip(3)
    # contiguous: a rotated view makes the convolutions several times slower
    return torch.rot90(x, int(torch.randint(0, 4, (1,), generator=gen)), dims=(2, 3)).contiguous()


def train(
    images64: np.ndarray, labels: np.ndarray, families: int, epochs: int = 12, seed: int = 0
) -> FamilyNet:
    """`epochs` passes in batches of 64, and at least 120 steps: small sets need the steps, not the data."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = FamilyNet(families)
    x, y = _tensor(images64), torch.from_numpy(labels)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    steps = max(120, epochs * len(x) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    net.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (64,), generator=gen)
        loss = nn.functional.cross_entropy(net(_augment(x[idx], gen)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


@torch.no_grad()
def predict(net: FamilyNet, images: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [N, H, W, 3] (any size, resized to 64²) → (softmax probabilities [N, K], features [N, 64])."""
    net.eval()
    probs, feats = [], []
    for s in range(0, len(images), batch):
        x = _tensor(resize(images[s : s + batch], SIZE))
        f = net.features(x)
        probs.append(torch.softmax(net.head(f), dim=1).numpy())
        feats.append(f.numpy())
    return np.concatenate(probs), np.concatenate(feats)


def load_or_train(data: LabelledImages, parts: Split, folder: Path, epochs: int = 12) -> Classifier:
    """The cached classifier for this data and split, or a new one trained now (and cached if writable)."""
    path = folder / CACHE_NAME
    want = fingerprint(data, parts)
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # a truncated or foreign file is retrained over, not trusted
            log.warning("%s: unreadable (%s); retraining", path, str(e).splitlines()[0])
            saved = {}
        if saved.get("format") == FORMAT and saved.get("fingerprint") == want:
            net = FamilyNet(len(data.families))
            net.load_state_dict(saved["state"])
            return Classifier(net.eval(), list(saved["families"]), float(saved["accuracy"]), path, False)
        log.info("%s: made for other data; retraining", path)
    small = resize(data.images, SIZE)
    net = train(small[parts.train], data.labels[parts.train], len(data.families), epochs)
    probs, _ = predict(net, small[parts.held])
    accuracy = float((probs.argmax(1) == data.labels[parts.held]).mean())
    saved = {
        "format": FORMAT,
        "fingerprint": want,
        "families": data.families,
        "accuracy": accuracy,
        "state": net.state_dict(),
    }
    try:
        torch.save(saved, path)
    except OSError as e:
        log.warning("%s: cannot cache the classifier (%s)", path, e.strerror)
        path = None
    return Classifier(net, data.families, accuracy, path, True)
