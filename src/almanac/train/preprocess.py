"""Preprocessing that travels with a run: fitted on the training split, saved as JSON, applied again at predict time.

Tables: numeric columns are standardised with the training mean and standard deviation; a missing numeric cell is
filled with the training **median** and flagged in an extra ``COLUMN_missing`` indicator (0/1) for every column that
had gaps in the training split; text (categorical) columns are one-hot encoded over the training categories plus
an ``unknown`` bucket that takes a category never seen in training (and a missing cell). Images: one global mean and
standard deviation. Class labels are kept as the list of class names (index = class code).

>>> import pandas as pd
>>> frame = pd.DataFrame({"a": [1.0, 3.0, None], "colour": ["red", "blue", "red"]})
>>> p = fit_table(frame)
>>> p.feature_names
('a', 'a_missing', 'colour=blue', 'colour=red', 'colour=unknown')
>>> p.transform(pd.DataFrame({"a": [2.0], "colour": ["green"]})).tolist()
[[0.0, 0.0, 0.0, 0.0, 1.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from almanac.errors import ConfigError, DomainError, problem

__all__ = ["MAX_CATEGORIES", "Preprocessing", "fit_image", "fit_table"]

#: a text column with more distinct values than this is refused (free text, identifiers), not one-hot encoded
MAX_CATEGORIES = 100
VERSION = 1


@dataclass(frozen=True)
class Preprocessing:
    """What turns raw inputs into the network's float32 inputs; :meth:`to_json` / :meth:`from_json` round-trip it.

    ``columns`` (tables) holds one dict per raw column: ``{"name", "kind": "numeric", "mean", "std", "fill",
    "indicator"}`` or ``{"name", "kind": "categorical", "categories"}``; ``image`` holds ``{"mean", "std",
    "shape"}`` for images. ``classes`` are the class names of a classification target, ``target`` its column(s).
    """

    kind: str  # "table" or "image"
    columns: tuple[dict[str, Any], ...] = ()
    image: dict[str, Any] = field(default_factory=dict)
    target: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()

    @property
    def numeric(self) -> list[dict[str, Any]]:
        return [c for c in self.columns if c["kind"] == "numeric"]

    @property
    def categorical(self) -> list[dict[str, Any]]:
        return [c for c in self.columns if c["kind"] == "categorical"]

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The network's input columns, in order: standardised numbers, missing indicators, one-hot blocks."""
        names = [c["name"] for c in self.numeric] + [f"{c['name']}_missing" for c in self.numeric if c["indicator"]]
        for c in self.categorical:
            names += [f"{c['name']}={v}" for v in c["categories"]] + [f"{c['name']}=unknown"]
        return tuple(names)

    @property
    def raw_names(self) -> tuple[str, ...]:
        """The raw columns the inputs need, in the order of :meth:`encode`."""
        return tuple(c["name"] for c in self.columns)

    @property
    def report(self) -> list[str]:
        """One line per column that was imputed or encoded (the rules stated)."""
        lines = []
        for c in self.numeric:
            if c["indicator"]:
                lines.append(f"{c['name']}: missing cells filled with the training median {c['fill']:.6g}, "
                             f"flagged in {c['name']}_missing")
        for c in self.categorical:
            lines.append(f"{c['name']}: one-hot over {len(c['categories'])} categories + unknown "
                         "(unseen or missing)")
        return lines

    def encode(self, frame: Any) -> np.ndarray:
        """A table → ``(N, R)`` float64, one column per raw column: numbers as they are (NaN where missing),
        text as the index of its category (``len(categories)`` = unknown). What :meth:`module` takes."""
        missing = [n for n in self.raw_names if n not in frame.columns]
        if missing:
            raise problem(ConfigError, "columns", f"to include the training columns ({', '.join(self.raw_names)})",
                          f"no {', '.join(missing)}", "add those columns to the input file")
        out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for j, c in enumerate(self.columns):
            column = frame[c["name"]]
            out[:, j] = _to_float(column, c["name"]) if c["kind"] == "numeric" else _codes(column, c["categories"])
        return out

    def transform(self, frame: Any) -> Tensor:
        """Raw inputs → network inputs: ``(N, F)`` float32 from a DataFrame holding the columns by name, or
        ``(N, C, H, W)`` from images (an array or tensor)."""
        with torch.no_grad():
            if self.kind == "image":
                return self.module()(torch.as_tensor(np.asarray(frame, dtype=np.float32)))
            x = self.module()(torch.from_numpy(self.encode(frame)))
        if not torch.isfinite(x).all():
            column = self.feature_names[int((~torch.isfinite(x)).any(0).nonzero()[0])]
            raise problem(DomainError, "features", "values that stay finite after standardisation in float32",
                          f"overflow in {column}", "rescale that column (other units or its logarithm)")
        return x

    def module(self) -> nn.Module:
        """The preprocessing as a module (what :meth:`transform` runs, and what an export embeds): tables take the
        output of :meth:`encode`, images the raw pixels."""
        if self.kind == "image":
            return _ImageScale(self.image["mean"], self.image["std"])
        return _TableEncoder(self.columns)

    def to_json(self) -> dict[str, Any]:
        return {"version": VERSION, "kind": self.kind, "columns": [dict(c) for c in self.columns],
                "image": dict(self.image), "target": list(self.target), "classes": list(self.classes)}

    @classmethod
    def from_json(cls, d: Any) -> Preprocessing:
        if not isinstance(d, dict) or d.get("version") != VERSION or d.get("kind") not in ("table", "image"):
            raise problem(ConfigError, "preprocessing", f"an almanac preprocessing record of version {VERSION}",
                          "another layout", "train the run again with this version of almanac")
        try:
            return cls(d["kind"], tuple(dict(c) for c in d["columns"]), dict(d["image"]), tuple(d["target"]),
                       tuple(str(c) for c in d["classes"]))
        except (KeyError, TypeError) as exc:
            raise problem(ConfigError, "preprocessing", "the fields kind, columns, image, target and classes",
                          f"{type(exc).__name__}: {exc}", "train the run again") from exc


class _ImageScale(nn.Module):
    def __init__(self, mean: float, std: float):
        super().__init__()
        self.mean, self.std = float(mean), float(std)

    def forward(self, x: Tensor) -> Tensor:
        return (x.float() - self.mean) / self.std


class _TableEncoder(nn.Module):
    """``(N, R)`` float64 encoded columns → ``(N, F)`` float32 network inputs: median fill, standardisation and
    missing indicators of the numbers, one-hot blocks of the category indices (in float64, then float32)."""

    def __init__(self, columns: tuple[dict[str, Any], ...]):
        super().__init__()
        index = {c["name"]: j for j, c in enumerate(columns)}
        numeric = [c for c in columns if c["kind"] == "numeric"]
        f64 = torch.float64
        self.register_buffer("num", torch.tensor([index[c["name"]] for c in numeric], dtype=torch.int64))
        self.register_buffer("fill", torch.tensor([c["fill"] for c in numeric], dtype=f64))
        self.register_buffer("mean", torch.tensor([c["mean"] for c in numeric], dtype=f64))
        self.register_buffer("std", torch.tensor([c["std"] for c in numeric], dtype=f64))
        self.register_buffer("flag", torch.tensor([k for k, c in enumerate(numeric) if c["indicator"]],
                                                  dtype=torch.int64))
        self.cats = [(index[c["name"]], len(c["categories"]) + 1) for c in columns if c["kind"] == "categorical"]

    def forward(self, x: Tensor) -> Tensor:
        x = x.to(torch.float64)
        num = x[:, self.num]
        gaps = torch.isnan(num)
        parts = [(torch.where(gaps, self.fill, num) - self.mean) / self.std, gaps[:, self.flag].to(torch.float64)]
        for j, size in self.cats:
            parts.append((x[:, j:j + 1] == torch.arange(size, dtype=torch.float64)).to(torch.float64))
        return torch.cat(parts, dim=1).to(torch.float32)


def _to_float(column: Any, name: str) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(values) & column.notna().to_numpy()
    if bad.any():
        raise problem(ConfigError, "features", f"numbers in the numeric column {name}",
                      f"{column[bad].iloc[0]!r}", "fix the cell or leave it empty (filled with the training median)")
    if np.isinf(values).any():
        raise problem(DomainError, "features", f"finite numbers in {name}", "inf", "drop or fix those rows")
    return values


def _codes(column: Any, categories: list[str]) -> np.ndarray:
    """Category index per cell; ``len(categories)`` (the unknown bucket) for unseen and missing cells."""
    import pandas as pd

    codes = pd.Index(categories).get_indexer(column.astype("string").str.strip()).astype(np.int64)
    return np.where(codes < 0, len(categories), codes)


def fit_table(frame: Any, *, target: tuple[str, ...] = (), classes: tuple[str, ...] = ()) -> Preprocessing:
    """Fit table preprocessing on ``frame`` (the training rows of the feature columns)."""
    import pandas as pd

    columns: list[dict[str, Any]] = []
    for name in frame.columns:
        column = frame[name]
        numeric = pd.to_numeric(column, errors="coerce")
        if (numeric.isna() == column.isna()).all():  # every non-empty cell is a number
            values = _to_float(column, name)
            present = values[~np.isnan(values)]
            if present.size == 0:
                raise problem(ConfigError, "features", f"values in column {name}", "only empty cells",
                              "drop that column")
            with np.errstate(over="ignore", invalid="ignore"):
                mean, std = float(present.mean()), float(present.std())
            if not (math.isfinite(mean) and math.isfinite(std)):
                raise problem(DomainError, "features", f"values of {name} small enough to standardise in float64",
                              f"max |x| {np.abs(present).max():.3g}", "rescale that column (for example to other "
                              "units or its logarithm)")
            columns.append({"name": str(name), "kind": "numeric", "mean": mean, "std": std if std > 0 else 1.0,
                            "fill": float(np.median(present)), "indicator": bool(np.isnan(values).any())})
        else:
            categories = sorted(column.dropna().astype(str).str.strip().unique().tolist())
            if len(categories) > MAX_CATEGORIES:
                raise problem(ConfigError, "features", f"text columns of at most {MAX_CATEGORIES} categories "
                              "(one-hot encoded)", f"{len(categories)} distinct values in {name}",
                              "drop that column (free text or an identifier) or group its values")
            columns.append({"name": str(name), "kind": "categorical", "categories": categories})
    return Preprocessing("table", tuple(columns), target=tuple(target), classes=tuple(classes))


def fit_image(x: np.ndarray, *, classes: tuple[str, ...] = ()) -> Preprocessing:
    """One global mean and standard deviation of images ``(N, C, H, W)``."""
    std = float(x.std())
    return Preprocessing("image", image={"mean": float(x.mean()), "std": std if std > 0 else 1.0,
                                         "shape": list(x.shape[1:])}, classes=tuple(classes))
