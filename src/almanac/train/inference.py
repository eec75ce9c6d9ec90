"""A trained run as a ready model: :func:`load_run` rebuilds the network from ``config.json``, loads the best
epoch's weights (``best.pt``) and its preprocessing (``preprocessing.json``), and predicts in the target's terms.

>>> import tempfile, almanac as am
>>> from almanac.train.job import RunConfig, run
>>> path, _, _ = run(RunConfig(dataset="iris", epochs=2, hidden=(8,), out=tempfile.mkdtemp()), progress=False)
>>> model = am.train.load(path)
>>> from sklearn.datasets import load_iris
>>> rows = load_iris(as_frame=True).frame.drop(columns="target")  # the raw columns, by name
>>> list(model.predict(rows).columns)
['prediction', 'probability_setosa', 'probability_versicolor', 'probability_virginica']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from almanac.errors import ConfigError, problem
from almanac.train.checkpoint import load as load_checkpoint
from almanac.train.preprocess import Preprocessing

__all__ = ["Predictor", "load_run"]

_CHUNK = 65536


class Pipeline(nn.Module):
    """Encoded raw inputs → preprocessing → network → inference activation: what ``almanac export`` writes."""

    def __init__(self, preprocessing: nn.Module, network: nn.Module, activation: nn.Module):
        super().__init__()
        self.preprocessing, self.network, self.activation = preprocessing, network, activation

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.network(self.preprocessing(x)))


@dataclass
class Predictor:
    """A trained run ready to predict: ``predict(frame)`` for tables, ``predict(images)`` for images."""

    run_dir: Path
    config: Any
    preprocessing: Preprocessing
    network: nn.Module
    inference: str
    best_epoch: int

    @property
    def task(self) -> str:
        return self.config.task

    @property
    def classes(self) -> tuple[str, ...]:
        return self.preprocessing.classes

    def pipeline(self) -> Pipeline:
        """The whole model as one module (takes :meth:`encode`'s output)."""
        from almanac.train.models import make_activation

        if self.inference in ("identity", "exp"):
            activation: nn.Module = nn.Identity() if self.inference == "identity" else _Exp()
        else:
            activation = make_activation(self.inference, dim=1)
        return Pipeline(self.preprocessing.module(), self.network, activation).eval()

    def encode(self, data: Any) -> Tensor:
        """Raw inputs (a DataFrame of the training columns, or images ``(N, C, H, W)``) → the pipeline's input."""
        if self.preprocessing.kind == "image":
            return torch.as_tensor(np.asarray(data, dtype=np.float32))
        return torch.from_numpy(self.preprocessing.encode(data))

    def scores(self, data: Any) -> Tensor:
        """Probabilities (classification, segmentation) or values in the target's units (regression)."""
        return self.scores_of_encoded(self.encode(data))

    @torch.no_grad()
    def scores_of_encoded(self, x: Tensor) -> Tensor:
        """:meth:`scores` of inputs already :meth:`encode` d (what an export takes)."""
        pipe = self.pipeline()
        return torch.cat([pipe(x[i:i + _CHUNK]) for i in range(0, len(x), _CHUNK)]) if len(x) else pipe(x)

    def predict(self, data: Any) -> Any:
        """Predictions in the target's terms: a DataFrame with ``prediction`` (class name or value) and the
        probability of each class (or label) for tables; class-index masks ``(N, H, W)`` for segmentation."""
        import pandas as pd

        p = self.scores(data).numpy()
        task, classes = self.task, self.classes
        if task == "segmentation":
            return p.argmax(1)
        if task == "regression":
            if p.ndim == 2:  # means and variances
                return pd.DataFrame({"prediction": p[:, 0], "variance": p[:, 1]})
            return pd.DataFrame({"prediction": p})
        if task == "multilabel":
            frame = {name: (p[:, j] >= 0.5).astype(int) for j, name in enumerate(classes)}
            frame |= {f"probability_{name}": p[:, j] for j, name in enumerate(classes)}
            return pd.DataFrame(frame)
        if task == "binary":
            positive = p.reshape(len(p), -1)[:, -1]  # (N,) one score, (N, 1) a mask head, (N, 2) two classes
            p = np.stack([1 - positive, positive], axis=1)
        labels = np.asarray(classes, dtype=object)[p.argmax(1)]
        return pd.DataFrame({"prediction": labels, **{f"probability_{c}": p[:, j] for j, c in enumerate(classes)}})


class _Exp(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.exp()


def load_run(run_dir: str | os.PathLike[str], *, checkpoint: str = "best") -> Predictor:
    """The run in ``run_dir`` as a :class:`Predictor` with the weights of its best epoch (``checkpoint="last"``:
    the last one). One clear ConfigError when a file is missing, damaged or from another layout."""
    from almanac.train.job import PREPROCESSING, build, read_config
    from almanac.train.loop import BEST, CHECKPOINT

    path = Path(run_dir)
    config = read_config(path)
    try:
        prep = Preprocessing.from_json(json.loads((path / PREPROCESSING).read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise problem(ConfigError, "run_dir", "a run holding preprocessing.json", f"none in {path}",
                      "train the run again with this version of almanac") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise problem(ConfigError, "run_dir", "a readable preprocessing.json", f"{type(exc).__name__} in {path}",
                      "restore the file or train again") from exc
    network, _, inference, _ = build(config)
    file = path / (BEST if checkpoint == "best" else CHECKPOINT)
    state = load_checkpoint(file)
    if not isinstance(state, dict) or "model" not in state or not isinstance(state.get("epoch"), int):
        raise problem(ConfigError, "checkpoint", "an almanac checkpoint with model and epoch", f"another layout in "
                      f"{file}", "restore the file or train again")
    try:
        network.load_state_dict(state["model"])
    except (RuntimeError, TypeError, KeyError) as exc:
        raise problem(ConfigError, "checkpoint", "weights that fit the model of config.json",
                      f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}",
                      "restore config.json or the checkpoint, or train again") from exc
    return Predictor(path, config, prep, network.eval(), inference, state["epoch"])
