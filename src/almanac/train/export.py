"""Export a trained run: the network *with* its preprocessing and inference activation, as ONNX, TorchScript or a
``torch.export`` program (pt2), checked after writing by running the written file against ``predict`` on the
validation split.

The exported model takes the encoded raw columns of :meth:`~almanac.train.preprocess.Preprocessing.encode`
(``(N, R)`` float64: numbers as they are with NaN for a missing cell, text as its category index) or raw images
``(N, C, H, W)`` float32, and returns probabilities (classification, segmentation) or values in the target's units.
A JSON file beside it names the input columns, the categories and the outputs.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path

import torch
from torch import Tensor

from almanac.errors import ConfigError, DomainError, problem
from almanac.train.files import atomic_write_bytes, atomic_write_json

__all__ = ["FORMATS", "TOLERANCE", "export"]

FORMATS = {"onnx": ".onnx", "torchscript": ".torchscript.pt", "pt2": ".pt2"}
TOLERANCE = 1e-5


def _run_exported(fmt: str, path: Path, x: Tensor) -> Tensor:
    """Run the written file (onnxruntime for ONNX, the loaders of torch otherwise) on ``x``."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return torch.from_numpy(session.run(None, {name: x.numpy()})[0])
    with torch.no_grad():
        if fmt == "torchscript":
            return torch.jit.load(str(path))(x)
        return torch.export.load(str(path)).module()(x)


def export(run_dir: str | os.PathLike[str], fmt: str, out: str | os.PathLike[str] | None = None) -> tuple[Path, float]:
    """Write the run's best model as ``fmt`` (``onnx``, ``torchscript`` or ``pt2``) to ``out`` (default
    ``RUN/model.<ext>``) and check it: the largest absolute difference from ``predict`` on the validation split
    must stay within :data:`TOLERANCE`. Returns the path and that difference."""
    from almanac.train.inference import load_run
    from almanac.train.job import _load_data

    if fmt not in FORMATS:
        raise problem(ConfigError, "format", f"one of {', '.join(FORMATS)}", repr(fmt), "pick one of these")
    predictor = load_run(run_dir)
    path = Path(out) if out is not None else predictor.run_dir / f"model{FORMATS[fmt]}"
    if (path.parent.exists() and not path.parent.is_dir()) or path.is_dir():
        raise problem(ConfigError, "out", "a file path in a directory", str(path), "pick another path")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _load_data(predictor.config)
    x = data.raw_val
    pipeline = predictor.pipeline()
    with torch.no_grad():
        expected = predictor.scores_of_encoded(x)
    batch = torch.export.Dim("batch", min=1)
    example = (x[:2],) if len(x) >= 2 else (x,)
    if fmt == "onnx":
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
            import onnxscript  # noqa: F401
        except ImportError as exc:
            raise problem(ConfigError, "format", "onnx, onnxruntime and onnxscript to be installed for ONNX",
                          "not installed", "pip install 'nn-almanac[onnx]'") from exc

        logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # notes about torchvision ops we do not use
        with warnings.catch_warnings():  # deprecation notes from inside the exporter
            warnings.simplefilter("ignore")
            program = torch.onnx.export(pipeline, example, input_names=["inputs"], output_names=["outputs"],
                                        dynamic_shapes=({0: batch},), dynamo=True, verbose=False)
        payload = program.model_proto.SerializeToString()
    else:
        buffer = io.BytesIO()
        with torch.no_grad():
            if fmt == "torchscript":
                torch.jit.save(torch.jit.trace(pipeline, example, check_trace=False), buffer)
            else:
                torch.export.save(torch.export.export(pipeline, example, dynamic_shapes=({0: batch},)), buffer)
        payload = buffer.getvalue()
    atomic_write_bytes(path, payload)  # a killed export leaves the old file or none, never half of one
    got = _run_exported(fmt, path, x)
    difference = float((got.double() - expected.double()).abs().max()) if expected.numel() else 0.0
    if not difference <= TOLERANCE:
        path.unlink(missing_ok=True)
        raise problem(DomainError, "export", f"to match predict within {TOLERANCE:g} on the validation split",
                      f"a largest difference of {difference:.3g} ({fmt})", "try another format and report this")
    prep = predictor.preprocessing
    atomic_write_json(path.with_name(path.name + ".json"), {
        "format": fmt, "task": predictor.task, "best_epoch": predictor.best_epoch,
        "inputs": list(prep.raw_names) if prep.kind == "table" else {"images": prep.image["shape"]},
        "input_dtype": "float64" if prep.kind == "table" else "float32",
        "categories": {c["name"]: c["categories"] for c in prep.categorical},
        "outputs": list(prep.classes) or ["value"], "inference": predictor.inference,
        "checked_max_abs_difference": difference,
    })
    return path, difference
