"""Validation metrics: pure functions, streaming :class:`Metric` objects, collections and specs.

Every metric is three stages, format → update → compute (:mod:`._format`, :mod:`._metric`); the pure function and
the streaming object run the same code. ``get(name, **params)`` builds the streaming metric, ``collection(...)``
several at once, ``names()`` lists them and ``spec(name)`` gives their facts.

>>> import almanac as am
>>> am.metrics.f1([1, 0, 1, 1], [1, 0, 0, 1])
0.8
>>> m = am.metrics.get("f1", average="macro")  # the same as am.metrics.F1(average="macro")
>>> m.update([0, 1, 2], [0, 1, 1]); m.update([2], [2])
>>> round(m.compute(), 4)
0.7778
"""

from __future__ import annotations

from almanac.metrics._metric import Metric, MetricCollection
from almanac.metrics._registry import collection, get, names, spec
from almanac.metrics.bootstrap import BootstrapInterval, bootstrap
from almanac.metrics.classification import (
    F1,
    Accuracy,
    BalancedAccuracy,
    CalibrationError,
    CohenKappa,
    ConfusionMatrix,
    FBeta,
    LogLoss,
    MatthewsCorrcoef,
    Precision,
    Recall,
    accuracy,
    balanced_accuracy,
    calibration_error,
    classification_report,
    cohen_kappa,
    confusion_matrix,
    f1,
    fbeta,
    log_loss,
    matthews_corrcoef,
    precision,
    recall,
)
from almanac.metrics.ranking import (
    AUROC,
    AveragePrecision,
    PRCurve,
    ROCCurve,
    auroc,
    average_precision,
    pr_curve,
    roc_curve,
)
from almanac.metrics.regression import (
    MAE,
    MAPE,
    MSE,
    MSLE,
    R2,
    RMSE,
    RMSLE,
    ExplainedVariance,
    explained_variance,
    mae,
    mape,
    mse,
    msle,
    r2,
    rmse,
    rmsle,
)
from almanac.metrics.segmentation import Dice, IoU, dice, iou
from almanac.metrics.tracker import MetricTracker

__all__ = [
    "AUROC",
    "F1",
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "R2",
    "RMSE",
    "RMSLE",
    "Accuracy",
    "AveragePrecision",
    "BalancedAccuracy",
    "BootstrapInterval",
    "CalibrationError",
    "CohenKappa",
    "ConfusionMatrix",
    "Dice",
    "ExplainedVariance",
    "FBeta",
    "IoU",
    "LogLoss",
    "MatthewsCorrcoef",
    "Metric",
    "MetricCollection",
    "MetricTracker",
    "PRCurve",
    "Precision",
    "ROCCurve",
    "Recall",
    "accuracy",
    "auroc",
    "average_precision",
    "balanced_accuracy",
    "bootstrap",
    "calibration_error",
    "classification_report",
    "cohen_kappa",
    "collection",
    "confusion_matrix",
    "dice",
    "explained_variance",
    "f1",
    "fbeta",
    "get",
    "iou",
    "log_loss",
    "mae",
    "mape",
    "matthews_corrcoef",
    "mse",
    "msle",
    "names",
    "pr_curve",
    "precision",
    "r2",
    "recall",
    "rmse",
    "rmsle",
    "roc_curve",
    "spec",
]
