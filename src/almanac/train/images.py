"""A user's own images: one folder per class (classification) or ``images/`` + ``masks/`` (segmentation), decoded
with Pillow and resized; :class:`Augmented` flips and shifts training images at random.

Masks are single-channel images whose pixel values are class indices (0 = background); a mask pairs with the
image of the same file stem.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from almanac.errors import ConfigError, problem
from almanac.train.files import atomic_write_bytes, check_directory

if TYPE_CHECKING:
    from almanac.train.data import Data

__all__ = ["EXTENSIONS", "Augmented", "load_images", "read_folder", "write_masks"]

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)


def _decode(path: Path, size: int, mode: str, resample: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert(mode).resize((size, size), resample), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as exc:
        raise problem(ConfigError, "images", "image files Pillow can read", f"{type(exc).__name__} on {path}",
                      "remove or fix that file") from exc
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _mode(paths: list[Path], channels: int | None) -> str:
    from PIL import Image

    if channels is not None:
        return "L" if channels == 1 else "RGB"
    for p in paths:
        try:
            with Image.open(p) as image:
                if image.mode not in ("L", "1", "I", "I;16", "F"):
                    return "RGB"
        except OSError:
            continue
    return "L"


def read_folder(folder: str | os.PathLike[str], *, size: int, channels: int | None = None) -> tuple[np.ndarray,
                                                                                                       list[str]]:
    """Every image under ``folder`` (recursively, sorted) as ``(N, C, size, size)`` float32 pixels in 0..255,
    with their paths relative to ``folder``."""
    from PIL import Image

    root = Path(folder)
    if not root.is_dir():
        raise problem(ConfigError, "images", "a folder of images", repr(str(root)), "check the path")
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)
    if not paths:
        raise problem(ConfigError, "images", f"image files ({', '.join(EXTENSIONS)})", f"none in {root}",
                      "check the folder")
    mode = _mode(paths, channels)
    pixels = np.stack([_decode(p, size, mode, Image.Resampling.BILINEAR) for p in paths])
    return pixels, [str(p.relative_to(root)) for p in paths]


def load_images(folder: str | os.PathLike[str], *, seed: int = 0, size: int = 32, val_fraction: float = 0.2) -> Data:
    """A :class:`~almanac.train.data.Data` from a folder: ``DIR/<class>/*.png`` (multiclass or binary) or
    ``DIR/images/*`` with ``DIR/masks/*`` of the same stems (segmentation)."""
    from PIL import Image

    from almanac.train.data import _make

    root = Path(folder)
    if not root.is_dir():
        raise problem(ConfigError, "images", "a folder of images", repr(str(root)), "check the path")
    if size < 8 or size % 4:
        raise problem(ConfigError, "image_size", "a multiple of 4, at least 8", str(size), "pass for example 32")
    if (root / "images").is_dir() and (root / "masks").is_dir():
        images = _files(root / "images")
        masks = {p.stem: p for p in _files(root / "masks")}
        unpaired = [p.name for p in images if p.stem not in masks]
        if not images or unpaired:
            raise problem(ConfigError, "images", "a mask in masks/ for every image in images/",
                          f"none for {', '.join(unpaired[:3])}" if unpaired else "no images",
                          "add the masks (same file stem)")
        mode = _mode(images, None)
        x = np.stack([_decode(p, size, mode, Image.Resampling.BILINEAR) for p in images])
        y = np.stack([_decode(masks[p.stem], size, "L", Image.Resampling.NEAREST)[0] for p in images]).astype(
            np.int64)
        k = int(y.max()) + 1
        if k < 2:
            raise problem(ConfigError, "images", "masks with at least one foreground class (pixel values ≥ 1)",
                          "only background", "check masks/")
        return _make(root.name, "segmentation", x, y, seed=seed, val_fraction=val_fraction,
                     classes=tuple(str(i) for i in range(k)), note=f"{len(x)} images from {root}, resized to {size}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and _files(p))
    if len(folders) < 2:
        raise problem(ConfigError, "images", "one sub-folder of images per class, at least two classes (or images/ "
                      "+ masks/)", f"{len(folders)} class folder(s) in {root}", "add a folder per class")
    paths = [p for f in folders for p in _files(f)]
    counts = {f.name: len(_files(f)) for f in folders}
    if min(counts.values()) < 2:
        raise problem(ConfigError, "images", "at least 2 images per class", f"{counts}", "add images")
    mode = _mode(paths, None)
    x = np.stack([_decode(p, size, mode, Image.Resampling.BILINEAR) for p in paths])
    y = np.concatenate([np.full(counts[f.name], i) for i, f in enumerate(folders)])
    task = "binary" if len(folders) == 2 else "multiclass"
    return _make(root.name, task, x, y, seed=seed, val_fraction=val_fraction, classes=tuple(counts),
                 note=f"{len(x)} images from {root}, resized to {size}")


class Augmented(Dataset):
    """Training tensors ``(inputs, target[, metric target])`` of images, flipped left-right with probability ½ and
    shifted by up to 2 pixels (targets that are masks move with them); draws from torch's global generator, so a
    seeded and resumed run sees the same augmentations."""

    def __init__(self, *tensors: Tensor):
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, i: int) -> tuple[Tensor, ...]:
        items = [t[i] for t in self.tensors]
        flip = bool(torch.rand(()) < 0.5)
        dy, dx = (int(v) for v in torch.randint(-2, 3, (2,)))
        h, w = items[0].shape[-2:]

        def move(t: Tensor) -> Tensor:
            if t.ndim < 2 or t.shape[-2:] != (h, w):
                return t  # a class index or a vector: unchanged
            t = t.flip(-1) if flip else t
            return t.roll((dy, dx), dims=(-2, -1))

        return tuple(move(t) for t in items)


def write_masks(folder: Path, names: list[str], masks: np.ndarray) -> list[Path]:
    """One PNG per mask (pixel value = class index) under ``folder``, each written atomically."""
    from PIL import Image

    check_directory(folder, "out")
    written = []
    for name, mask in zip(names, masks):
        buffer = io.BytesIO()
        Image.fromarray(mask.astype(np.uint8)).save(buffer, format="PNG")
        written.append(atomic_write_bytes(folder / Path(name).with_suffix(".png"), buffer.getvalue()))
    return written
