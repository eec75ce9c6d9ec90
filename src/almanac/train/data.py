"""Datasets that need no download, a user's CSV, task inference and standardisation.

Every loader returns a :class:`Data`: training and validation tensors split with a seed (stratified for
classification), inputs standardised with statistics of the training split only.

>>> d = load("iris", seed=0)
>>> d.task, d.num_outputs, tuple(d.x_train.shape), d.y_train.dtype
('multiclass', 3, (120, 4), torch.int64)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from almanac.errors import ConfigError, TargetError, problem
from almanac.train.preprocess import Preprocessing, fit_image, fit_table

__all__ = ["DATASETS", "Data", "infer_task", "load", "load_csv", "read_table", "read_target"]

#: the fewest data rows a CSV may have: the validation split needs 2 or more for its metrics
MIN_ROWS = 10

#: name → (task, description) of every dataset :func:`load` knows.
DATASETS: dict[str, tuple[str, str]] = {
    "digits": ("multiclass", "8×8 images of handwritten digits, 10 classes, 1797 samples (scikit-learn)"),
    "iris": ("multiclass", "iris flowers, 4 features, 3 classes, 150 samples (scikit-learn)"),
    "wine": ("multiclass", "wine cultivars, 13 features, 3 classes, 178 samples (scikit-learn)"),
    "breast_cancer": ("binary", "breast cancer diagnosis, 30 features, 569 samples (scikit-learn)"),
    "diabetes": ("regression", "diabetes progression, 10 features, 442 samples (scikit-learn)"),
    "moons": ("binary", "two interleaving half circles, 2 features, 1000 samples (generated)"),
    "circles": ("binary", "a circle inside a circle, 2 features, 1000 samples (generated)"),
    "imbalanced": ("binary", "20 features, about 3% positives, 5000 samples (generated)"),
    "outliers": ("regression", "linear target with 8% gross outliers in the training split, 1000 samples (generated)"),
    "multilabel": ("multilabel", "20 features, 5 labels, 2000 samples (generated)"),
    "shapes": ("segmentation", "24×24 noisy images of squares and discs with pixel masks, 3 classes (generated)"),
}


@dataclass(frozen=True)
class Data:
    """A dataset split into training and validation tensors.

    Inputs are float32, standardised on the training split: ``(N, F)`` for tables, ``(N, C, H, W)`` for images.
    Targets keep their natural encoding: class indices ``(N,)`` int64 (binary and multiclass), ``(N, L)`` 0/1
    float32 (multilabel), ``(N,)`` float32 values (regression), ``(N, H, W)`` int64 class maps (segmentation).
    ``num_outputs`` is the number of classes (multiclass, segmentation), of labels (multilabel), else 1.
    ``target_mean`` / ``target_std`` are the regression target's statistics on the training split.
    """

    name: str
    task: str
    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    num_outputs: int
    classes: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    target_mean: float = 0.0
    target_std: float = 1.0
    note: str = ""
    preprocessing: Preprocessing | None = None  # how raw inputs became x (fitted on the training split)
    raw_val: Tensor | None = None  # the validation inputs before preprocessing (what predict and export take)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input: ``(F,)`` or ``(C, H, W)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x_train.ndim == 4


def _split(n: int, y: np.ndarray | None, seed: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    index = np.arange(n)
    stratify = y if y is not None and y.ndim == 1 and np.min(np.unique(y, return_counts=True)[1]) >= 2 else None
    train, val = train_test_split(index, test_size=val_fraction, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)


def _make(
    name: str, task: str, x: np.ndarray, y: np.ndarray, *, seed: int, val_fraction: float,
    classes: tuple[str, ...] = (), features: tuple[str, ...] = (), note: str = "",
    corrupt_train: float = 0.0,
) -> Data:
    """A bundled dataset: split, then standardised with the training split's statistics (per feature for tables,
    global for images), the statistics kept as its preprocessing."""
    import pandas as pd

    train, val = _split(len(x), y if task in ("binary", "multiclass") else None, seed, val_fraction)
    y_train, y_val = y[train], y[val]
    if corrupt_train:  # gross outliers in the training targets only: validation measures the clean relation
        rng = np.random.default_rng(seed + 1)
        y_train = y_train.astype(np.float64).copy()
        hit = rng.random(len(y_train)) < corrupt_train
        y_train[hit] += rng.choice([-1.0, 1.0], hit.sum()) * rng.uniform(8, 15, hit.sum()) * y.std()
    x = x.astype(np.float64)
    if x.ndim == 4:
        prep = fit_image(x[train], classes=classes)
        x_train, x_val = prep.transform(x[train]), prep.transform(x[val])
        raw_val = torch.as_tensor(x[val], dtype=torch.float32)
    else:
        names = list(features) if features else [f"x{i}" for i in range(x.shape[1])]
        prep = fit_table(pd.DataFrame(x[train], columns=names), classes=classes)
        x_train, x_val = (prep.transform(pd.DataFrame(x[i], columns=names)) for i in (train, val))
        raw_val = torch.from_numpy(prep.encode(pd.DataFrame(x[val], columns=names)))
    return _tensors(name, task, x_train, y_train, x_val, y_val, classes=classes, features=features, note=note,
                    preprocessing=prep, raw_val=raw_val)


def _tensors(name: str, task: str, x_train: Tensor, y_train: np.ndarray, x_val: Tensor, y_val: np.ndarray, *,
             classes: tuple[str, ...], features: tuple[str, ...], note: str, preprocessing: Preprocessing,
             raw_val: Tensor | None = None) -> Data:
    if task in ("binary", "multiclass", "segmentation"):
        y_t, y_v = torch.as_tensor(y_train, dtype=torch.int64), torch.as_tensor(y_val, dtype=torch.int64)
        num_outputs = 1 if task == "binary" else len(classes)
    else:
        y_t, y_v = torch.as_tensor(y_train, dtype=torch.float32), torch.as_tensor(y_val, dtype=torch.float32)
        num_outputs = y_t.shape[1] if task == "multilabel" else 1
    mean = float(y_t.mean()) if task == "regression" else 0.0
    std = float(y_t.std()) if task == "regression" and len(y_t) > 1 else 1.0
    return Data(name, task, x_train, y_t, x_val, y_v, num_outputs, classes, features, mean,
                std if std > 0 else 1.0, note, preprocessing, raw_val)


def _shapes(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy images with 1–3 small squares (class 1) and discs (class 2); masks are class-index maps."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0.0, 0.35, (n, 1, size, size))
    masks = np.zeros((n, size, size), dtype=np.int64)
    rows, cols = np.mgrid[0:size, 0:size]
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            kind = rng.integers(1, 3)
            r = rng.integers(2, 5)
            cy, cx = rng.integers(r, size - r, 2)
            if kind == 1:
                inside = (abs(rows - cy) <= r - 1) & (abs(cols - cx) <= r - 1)
            else:
                inside = (rows - cy) ** 2 + (cols - cx) ** 2 <= r**2
            masks[i][inside] = kind
            images[i, 0][inside] += 1.0
    return images, masks


def load(name: str, *, seed: int = 0, val_fraction: float = 0.2) -> Data:
    """Load the dataset ``name`` (one of :data:`DATASETS`) split with ``seed``.

    >>> d = load("moons", seed=1)
    >>> d.task, d.num_outputs, d.classes
    ('binary', 1, ('0', '1'))
    """
    from sklearn import datasets

    key = name.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise problem(ConfigError, "--dataset", f"to be one of {', '.join(DATASETS)}", repr(name),
                      "pick one of these, or pass --csv FILE --target COL")
    task = DATASETS[key][0]
    common = {"seed": seed, "val_fraction": val_fraction}
    if key in ("digits", "iris", "wine", "breast_cancer", "diabetes"):
        bunch = getattr(datasets, f"load_{key}")()
        x = bunch.data.reshape(-1, 1, 8, 8) if key == "digits" else bunch.data
        features = () if key == "digits" else tuple(bunch.feature_names)
        classes = tuple(str(c) for c in bunch.target_names) if task != "regression" else ()
        return _make(key, task, x, bunch.target, classes=classes, features=features, **common)
    if key == "moons":
        x, y = datasets.make_moons(1000, noise=0.25, random_state=seed)
    elif key == "circles":
        x, y = datasets.make_circles(1000, noise=0.1, factor=0.5, random_state=seed)
    elif key == "imbalanced":
        x, y = datasets.make_classification(5000, n_features=20, n_informative=6, weights=[0.97], flip_y=0.005,
                                            class_sep=1.0, random_state=seed)
    elif key == "outliers":
        x, y = datasets.make_regression(1000, n_features=10, n_informative=6, noise=10.0, random_state=seed)
        return _make(key, task, x, y, corrupt_train=0.08, note="8% of the training targets are gross outliers; "
                     "the validation targets are clean", **common)
    elif key == "multilabel":
        x, y = datasets.make_multilabel_classification(2000, n_features=20, n_classes=5, n_labels=2,
                                                       random_state=seed)
        return _make(key, task, x, y, classes=tuple(f"label_{i}" for i in range(5)), **common)
    else:  # shapes
        x, y = _shapes(600, 24, seed)
        return _make(key, task, x, y, classes=("background", "square", "disc"), **common)
    return _make(key, task, x, y, classes=("0", "1"), **common)


def infer_task(target: np.ndarray) -> str:
    """The task a target column (or columns) implies.

    Several columns of 0/1 are multilabel; text or two distinct values are binary or multiclass by count;
    integers with at most 20 distinct values are multiclass; anything else is regression.

    >>> infer_task(np.array([0.5, 1.25, 3.0])), infer_task(np.array(["a", "b", "a"])), infer_task(np.array([0, 2, 1]))
    ('regression', 'binary', 'multiclass')
    """
    if target.ndim == 2:
        return "multilabel"
    if target.dtype.kind not in "biuf":
        return "binary" if len(np.unique(target)) <= 2 else "multiclass"
    distinct = np.unique(target)
    if len(distinct) <= 2:
        return "binary"
    if np.all(np.mod(distinct, 1) == 0) and len(distinct) <= 20:
        return "multiclass"
    return "regression"


def read_table(path: str | os.PathLike[str]) -> Any:
    """A CSV (UTF-8, header row) or Parquet file as a pandas DataFrame; the one reader of ``almanac train``,
    ``predict`` and ``advise``. Empty cells are missing values (NaN); duplicate column names are refused."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise problem(ConfigError, "csv", "to name an existing CSV file", repr(str(path)), "check the path")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            header = [str(c) for c in frame.columns]
        else:
            header = [str(h).strip() for h in pd.read_csv(path, header=None, nrows=1, encoding="utf-8-sig",
                                                           dtype=str, keep_default_na=False).iloc[0]]
            frame = pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True)
            frame.columns = header
    except ImportError as exc:
        raise problem(ConfigError, "csv", "pyarrow to read Parquet", "not installed",
                      "pip install 'nn-almanac[parquet]' or save the table as CSV") from exc
    except UnicodeDecodeError as exc:
        raise problem(ConfigError, "csv", "to be a UTF-8 CSV file", f"{type(exc).__name__} in {path.name}",
                      "save it as UTF-8 CSV") from exc
    except (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise problem(ConfigError, "csv", "to be a CSV file with a header row (or Parquet)",
                      f"{type(exc).__name__} reading {path.name}: {str(exc).splitlines()[0] if str(exc) else ''}",
                      "fix the file") from exc
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise problem(ConfigError, "csv", "distinct column names", f"{', '.join(twice)} more than once in "
                      f"{path.name}", "rename the repeated columns")
    if path.suffix.lower() not in (".parquet", ".pq"):
        _check_rows(path, len(header))
    return frame


def _check_rows(path: Path, width: int) -> None:
    """Every non-blank row of a CSV has the header's number of fields: pandas reads a short row as missing cells
    (and a long one shifts into the index), which would be imputed as if the data were missing."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            if row and len(row) != width:
                raise problem(ConfigError, "csv", f"to have the header's {width} fields in every row",
                              f"row {line} has {len(row)} (in {path.name})", "fix that row (a missing or extra comma)")


def _target_columns(frame: Any, target: str, name: str) -> list[str]:
    wanted = [t.strip() for t in target.split(",") if t.strip()]
    missing = [t for t in wanted if t not in frame.columns]
    if not wanted or missing:
        raise problem(ConfigError, "target", f"to name columns of {name} ({', '.join(map(str, frame.columns))})",
                      repr(target), "pass one of these column names")
    if len(wanted) == len(frame.columns):
        raise problem(ConfigError, "csv", "to hold at least one feature column besides the target",
                      f"only {', '.join(wanted)}", "add feature columns")
    return wanted


def _target_values(frame: Any, wanted: list[str]) -> np.ndarray:
    """The target as an array: floats when every cell is a number, else text; empty cells are refused."""
    import pandas as pd

    empty = [t for t in wanted if frame[t].isna().any()]
    if empty:
        raise problem(TargetError, "target", "to have a value on every row", f"empty cells in {', '.join(empty)}",
                      "drop those rows")
    if len(wanted) > 1:
        y = np.stack([pd.to_numeric(frame[t], errors="coerce").to_numpy(dtype=np.float64) for t in wanted], axis=1)
        if not np.isin(y, (0.0, 1.0)).all():
            raise problem(TargetError, "target", "columns of 0/1 (several target columns mean multilabel)",
                          f"other values in {','.join(wanted)}", "pass one target column, or 0/1 label columns")
        return y
    column = frame[wanted[0]]
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.notna().all():
        y = numeric.to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            raise problem(TargetError, "target", "to be finite", "inf values", "drop those rows")
        return y
    return column.astype(str).str.strip().to_numpy()


def read_target(path: str | os.PathLike[str], target: str) -> tuple[np.ndarray, np.ndarray]:
    """The inputs (encoded as for training, fitted on all rows) and the raw target of a table file, read as
    :func:`load_csv` reads it: what ``almanac advise --csv`` looks at."""
    frame = read_table(path)
    wanted = _target_columns(frame, target, Path(path).name)
    y = _target_values(frame, wanted)
    features = frame.drop(columns=wanted)
    return fit_table(features).transform(features).numpy(), y


def load_csv(
    path: str | os.PathLike[str], target: str, *, task: str | None = None, seed: int = 0, val_fraction: float = 0.2
) -> Data:
    """Load a CSV (or Parquet) file with a header row: ``target`` (one column, or several separated by commas for
    multilabel) is what to predict, every other column is a feature.

    Numeric features are standardised, missing cells imputed and flagged, text columns one-hot encoded (see
    :mod:`almanac.train.preprocess`); all of it is fitted on the training split and kept in ``Data.preprocessing``.
    The task is inferred from the target with :func:`infer_task` unless ``task`` is given.
    """
    path = Path(path)
    frame = read_table(path)
    wanted = _target_columns(frame, target, path.name)
    y = _target_values(frame, wanted)
    if len(frame) < MIN_ROWS:
        raise problem(ConfigError, "csv", f"at least {MIN_ROWS} data rows (a validation split of 2 or more)",
                      f"{len(frame)} rows in {path.name}", "add rows")
    given = task is not None
    task = task or infer_task(y)
    if task not in ("binary", "multiclass", "multilabel", "regression"):
        raise problem(ConfigError, "task", "to be binary, multiclass, multilabel or regression for a CSV",
                      repr(task), "pass one of these")
    if (task == "multilabel") != (y.ndim == 2):
        raise problem(ConfigError, "task", "to match the target columns (several 0/1 columns ⇔ multilabel)",
                      f"{task} with {len(wanted)} target column(s)", "pass the task to match, or fix the target")
    note = f"task {task} " + ("given" if given else "inferred from the target")
    features = frame.drop(columns=wanted)
    common = {"features": features, "seed": seed, "val_fraction": val_fraction, "note": note, "target": wanted}
    if task == "multilabel":
        return _make_table(path.stem, task, y, classes=tuple(wanted), **common)
    if task == "regression":
        if y.dtype.kind not in "biuf":
            raise problem(TargetError, "target", "to be numeric for regression", "text values",
                          "pick the task multiclass, or a numeric target column")
        return _make_table(path.stem, task, y, **common)
    values, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    if task == "binary" and len(values) != 2:
        raise problem(TargetError, "target", "two distinct values for a binary task", f"{len(values)}",
                      "pick the task multiclass or regression")
    if math.ceil(val_fraction * len(y)) < len(values):
        raise problem(ConfigError, "csv", f"rows enough for every class of {len(values)} in the validation split",
                      f"{len(y)} rows", "add rows")
    rare = [_label(v) for v, c in zip(values, counts) if c < 2]
    if rare:
        raise problem(TargetError, "target", "at least 2 rows per class (one for each split)",
                      f"one row of {', '.join(rare[:5])}", "add rows of those classes or drop them")
    return _make_table(path.stem, task, codes, classes=tuple(_label(v) for v in values), **common)


def _make_table(name: str, task: str, y: np.ndarray, *, features: Any, seed: int, val_fraction: float, note: str,
                target: list[str], classes: tuple[str, ...] = ()) -> Data:
    train, val = _split(len(y), y if task in ("binary", "multiclass") else None, seed, val_fraction)
    if task in ("binary", "multiclass") and len(np.unique(y[val])) < len(classes):
        raise problem(ConfigError, "csv", "rows enough for every class in the validation split (else its AUROC and "
                      "F1 are undefined)", f"{len(np.unique(y[val]))} of {len(classes)} classes there",
                      "add rows of the rare classes")
    prep = fit_table(features.iloc[train], target=tuple(target), classes=classes)
    x_train, x_val = prep.transform(features.iloc[train]), prep.transform(features.iloc[val])
    return _tensors(name, task, x_train, y[train], x_val, y[val], classes=classes, features=prep.feature_names,
                    note="; ".join([note, *prep.report]), preprocessing=prep,
                    raw_val=torch.from_numpy(prep.encode(features.iloc[val])))


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)
