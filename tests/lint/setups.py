"""The benchmark of the checker: faulty and correct setups for every rule, written the way users write models.

Each setup is a function that builds ``dict(model=..., loss=..., inputs=..., target=..., metrics=..., task=...)``
(keys beyond ``model`` optional) and is registered with the rule it exercises and whether it is faulty. A faulty
setup must be caught by its rule; a correct one must get no error and no warning from any rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, r2_score
from torch import nn

import almanac as am


@dataclass(frozen=True)
class Setup:
    rule: str
    name: str
    faulty: bool
    build: Callable[[], dict[str, Any]]
    source: str = ""  # the public bug report or recipe a real case re-creates (tests/lint/corpus.py)


SETUPS: list[Setup] = []


def setup(rule: str, faulty: bool, source: str = ""
          ) -> Callable[[Callable[[], dict[str, Any]]], Callable[[], dict[str, Any]]]:
    def register(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        SETUPS.append(Setup(rule, build.__name__, faulty, build, source))
        return build

    return register


# -- data ------------------------------------------------------------------------------------------------------
def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def features(n: int = 64, d: int = 10, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=_gen(seed))


def labels(n: int = 64, k: int = 3) -> torch.Tensor:
    """(N,) class indices, every class present."""
    return torch.arange(n) % k


def binary(n: int = 64, pos: float = 0.5, seed: int = 2) -> torch.Tensor:
    """(N, 1) float 0/1 targets with a fraction ``pos`` of positives."""
    y = torch.zeros(n, 1)
    y[: max(1, round(n * pos))] = 1.0
    return y[torch.randperm(n, generator=_gen(seed))]


def values(n: int = 64, low: float = -2.0, high: float = 2.0, seed: int = 3) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, 1, generator=_gen(seed))


def multi_hot(n: int = 64, k: int = 5, seed: int = 4) -> torch.Tensor:
    y = (torch.rand(n, k, generator=_gen(seed)) < 0.4).float()
    y[0] = torch.tensor([1.0, 1.0] + [0.0] * (k - 2))  # at least one row with several positives
    return y


def images(n: int = 16, c: int = 1, size: int = 28, seed: int = 5) -> torch.Tensor:
    return torch.randn(n, c, size, size, generator=_gen(seed))


def mlp(d: int = 10, hidden: int = 32, out: int = 3, *tail: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, out), *tail)


class SmallCNN(nn.Module):
    def __init__(self, out: int = 10, head: Callable[[torch.Tensor], torch.Tensor] | None = None, c: int = 1):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(c, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(16, out)
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.classifier(torch.flatten(self.features(x), 1))
        return self.head(scores) if self.head is not None else scores


class Net(nn.Module):
    """A custom ``forward`` with functional activations; ``head`` is applied to the last layer's output."""

    def __init__(self, d: int = 10, out: int = 3, head: Callable[[torch.Tensor], torch.Tensor] | None = None):
        super().__init__()
        self.fc1 = nn.Linear(d, 32)
        self.fc2 = nn.Linear(32, out)
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return self.head(x) if self.head is not None else x


# -- AL001 double softmax ---------------------------------------------------------------------------------------
@setup("AL001", True)
def mlp_softmax_layer_then_cross_entropy_loss():
    return dict(model=mlp(10, 32, 5, nn.Softmax(dim=1)), loss=nn.CrossEntropyLoss())


@setup("AL001", True)
def custom_forward_torch_softmax_then_f_cross_entropy():
    return dict(model=Net(head=lambda x: torch.softmax(x, 1)), loss=F.cross_entropy,
                inputs=features(), target=labels())


@setup("AL001", True)
def cnn_log_softmax_then_almanac_cross_entropy_by_name():
    return dict(model=SmallCNN(10, nn.LogSoftmax(dim=1)), loss="cross_entropy")


@setup("AL001", True)
def almanac_softmax_module_then_almanac_cross_entropy_object():
    return dict(model=mlp(10, 32, 3, am.activations.get("softmax", dim=1)), loss=am.losses.get("cross_entropy"),
                inputs=features(), target=labels())


@setup("AL001", True)
def softmax_head_then_custom_smoothed_cross_entropy():
    return dict(model=mlp(10, 32, 3, nn.Softmax(dim=-1)),
                loss=lambda out, y: F.cross_entropy(out, y, label_smoothing=0.1), inputs=features(), target=labels())


@setup("AL001", False)
def mlp_logits_cross_entropy():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


@setup("AL001", False)
def cnn_log_softmax_nll():
    return dict(model=SmallCNN(10, nn.LogSoftmax(dim=1)), loss=nn.NLLLoss(), inputs=images(), target=labels(16, 10))


# -- AL002 double sigmoid ---------------------------------------------------------------------------------------
@setup("AL002", True)
def mlp_sigmoid_layer_then_bce_with_logits():
    return dict(model=mlp(10, 32, 1, nn.Sigmoid()), loss=nn.BCEWithLogitsLoss())


@setup("AL002", True)
def custom_forward_tensor_sigmoid_then_functional_bce_with_logits():
    return dict(model=Net(out=1, head=lambda x: x.sigmoid()), loss=F.binary_cross_entropy_with_logits,
                inputs=features(), target=binary())


@setup("AL002", True)
def almanac_sigmoid_module_then_almanac_bce_by_name():
    return dict(model=mlp(10, 32, 1, am.activations.get("sigmoid")), loss="bce")


@setup("AL002", True)
def multilabel_cnn_sigmoid_then_multilabel_soft_margin():
    return dict(model=SmallCNN(5, torch.sigmoid), loss=nn.MultiLabelSoftMarginLoss(), inputs=images(),
                target=multi_hot(16))


class WeightedBCE(nn.Module):
    def __init__(self, pos_weight: float):
        super().__init__()
        self.register_buffer("pos_weight", torch.tensor(pos_weight))

    def forward(self, scores, target):
        return F.binary_cross_entropy_with_logits(scores.view(-1), target.view(-1), pos_weight=self.pos_weight)


@setup("AL002", True)
def sigmoid_head_then_custom_weighted_bce_module():
    return dict(model=Net(out=1, head=torch.sigmoid), loss=WeightedBCE(3.0), inputs=features(), target=binary())


@setup("AL002", False)
def logits_then_custom_weighted_bce_module():
    return dict(model=Net(out=1), loss=WeightedBCE(3.0), inputs=features(), target=binary())


@setup("AL002", False)
def sigmoid_then_bce_loss():
    return dict(model=mlp(10, 32, 1, nn.Sigmoid()), loss=nn.BCELoss(), inputs=features(), target=binary())


@setup("AL002", False)
def logits_then_bce_with_logits():
    return dict(model=Net(out=1), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=binary())


# -- AL003 unbounded scores into probabilities ------------------------------------------------------------------
@setup("AL003", True)
def logits_into_bce_loss():
    return dict(model=mlp(10, 32, 1), loss=nn.BCELoss())


@setup("AL003", True)
def logits_into_nll_loss():
    return dict(model=mlp(10, 32, 3), loss=nn.NLLLoss(), inputs=features(), target=labels())


@setup("AL003", True)
def softmax_not_log_softmax_into_f_nll_loss():
    return dict(model=Net(head=lambda x: F.softmax(x, dim=1)), loss=F.nll_loss, inputs=features(), target=labels())


@setup("AL003", True)
def logits_into_almanac_bce_from_probabilities():
    return dict(model=SmallCNN(1), loss=am.losses.get("binary_cross_entropy", from_logits=False))


def nll(scores, target):
    return F.nll_loss(scores, target, reduction="mean")


@setup("AL003", True)
def logits_into_a_function_that_calls_nll_loss():
    return dict(model=SmallCNN(10), loss=nll, inputs=images(), target=labels(16, 10))


@setup("AL003", False)
def functional_log_softmax_into_f_nll_loss():
    return dict(model=Net(head=lambda x: F.log_softmax(x, dim=1)), loss=F.nll_loss, inputs=features(),
                target=labels())


@setup("AL003", False)
def sigmoid_into_almanac_bce_from_probabilities():
    return dict(model=Net(out=1, head=torch.sigmoid), loss=am.losses.get("bce", from_logits=False),
                inputs=features(), target=binary())


# -- AL004 softmax over a dimension of size 1 -------------------------------------------------------------------
@setup("AL004", True)
def one_unit_softmax_for_binary():
    return dict(model=mlp(10, 32, 1, nn.Softmax(dim=1)), loss=nn.BCELoss())


@setup("AL004", True)
def custom_forward_softmax_last_dim_of_one_unit():
    return dict(model=Net(out=1, head=lambda x: torch.softmax(x, dim=-1)))


@setup("AL004", True)
def segmentation_one_channel_softmax():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1), nn.Softmax(dim=1))
    return dict(model=model)


@setup("AL004", False)
def one_unit_sigmoid_for_binary():
    return dict(model=mlp(10, 32, 1, nn.Sigmoid()), loss=nn.BCELoss(), inputs=features(), target=binary())


@setup("AL004", False)
def three_class_softmax_for_inference():
    return dict(model=mlp(10, 32, 3, nn.Softmax(dim=1)), inputs=features())


# -- AL005 multi-label targets with softmax / cross-entropy -----------------------------------------------------
@setup("AL005", True)
def multi_hot_targets_with_cross_entropy():
    return dict(model=mlp(10, 32, 5), loss=nn.CrossEntropyLoss(), inputs=features(), target=multi_hot())


@setup("AL005", True)
def multi_hot_targets_with_softmax_and_bce():
    return dict(model=mlp(10, 32, 5, nn.Softmax(dim=1)), loss=nn.BCELoss(), inputs=features(), target=multi_hot())


@setup("AL005", True)
def multi_hot_targets_with_almanac_cross_entropy():
    return dict(model=SmallCNN(5), loss="cross_entropy", inputs=images(), target=multi_hot(16))


@setup("AL005", True)
def multi_hot_targets_with_softmax_model_and_no_loss():
    return dict(model=Net(out=5, head=lambda x: x.softmax(dim=1)), inputs=features(), target=multi_hot())


@setup("AL005", False)
def multi_hot_targets_with_bce_with_logits():
    return dict(model=mlp(10, 32, 5), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=multi_hot())


@setup("AL005", False)
def one_hot_targets_with_cross_entropy():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(),
                target=F.one_hot(labels(), 3).float())


# -- AL006 stacked linear layers --------------------------------------------------------------------------------
@setup("AL006", True)
def sequential_linear_linear():
    return dict(model=nn.Sequential(nn.Linear(10, 64), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 3)),
                loss=nn.CrossEntropyLoss())


class TwoLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(10, 32)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        return self.head(self.dropout(self.encoder(x)))


@setup("AL006", True)
def custom_forward_linear_dropout_linear():
    return dict(model=TwoLinear(), loss=nn.CrossEntropyLoss())


@setup("AL006", True)
def cnn_conv_conv_without_activation():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    return dict(model=model, loss=nn.CrossEntropyLoss())


@setup("AL006", True)
def cnn_flatten_straight_into_two_linears():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 32),
                          nn.Linear(32, 10))
    return dict(model=model, loss=nn.CrossEntropyLoss(), inputs=images(), target=labels(16, 10))


@setup("AL006", False)
def mlp_with_relus():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
        self.decoder = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.decoder(self.encoder(x))


@setup("AL006", False)
def autoencoder_with_linear_code():
    x = features()
    return dict(model=AutoEncoder(), loss=nn.MSELoss(), inputs=x, target=x.clone())


@setup("AL006", False)
def depthwise_separable_conv():
    model = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, groups=3), nn.Conv2d(3, 16, 1), nn.BatchNorm2d(16),
                          nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))
    return dict(model=model, loss=nn.CrossEntropyLoss(), inputs=images(16, 3), target=labels(16, 4))


@setup("AL006", False)
def linear_layernorm_gelu_linear():
    model = nn.Sequential(nn.Linear(10, 32), nn.LayerNorm(32), nn.GELU(), nn.Linear(32, 3))
    return dict(model=model, loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


# -- AL007 output activation cannot reach the targets -----------------------------------------------------------
@setup("AL007", True)
def relu_output_with_negative_targets():
    return dict(model=mlp(10, 32, 1, nn.ReLU()), loss=nn.MSELoss(), inputs=features(), target=values())


@setup("AL007", True)
def sigmoid_output_with_prices():
    return dict(model=Net(out=1, head=torch.sigmoid), loss=nn.L1Loss(), inputs=features(),
                target=values(low=0.0, high=50.0))


@setup("AL007", True)
def tanh_output_with_wide_targets_almanac_huber():
    return dict(model=mlp(10, 32, 1, nn.Tanh()), loss="huber", inputs=features(), target=values(low=-5, high=5))


@setup("AL007", True)
def functional_softplus_output_with_negative_targets():
    return dict(model=Net(out=1, head=F.softplus), loss=F.smooth_l1_loss, inputs=features(), target=values())


@setup("AL007", False)
def sigmoid_output_with_unit_interval_targets():
    return dict(model=mlp(10, 32, 1, nn.Sigmoid()), loss=nn.MSELoss(), inputs=features(),
                target=values(low=0.0, high=1.0))


@setup("AL007", False)
def relu_output_with_non_negative_targets():
    return dict(model=Net(out=1, head=F.relu), loss=nn.MSELoss(), inputs=features(), target=values(low=0, high=5))


@setup("AL007", False)
def linear_output_with_any_targets():
    return dict(model=mlp(10, 32, 1), loss=am.losses.get("huber", delta=2.0), inputs=features(),
                target=values(low=-30, high=30))


# -- AL008 regression loss on class indices ---------------------------------------------------------------------
@setup("AL008", True)
def mse_on_class_indices_with_ten_outputs():
    return dict(model=mlp(10, 32, 10), loss=nn.MSELoss(), inputs=features(), target=labels(64, 10))


@setup("AL008", True)
def l1_on_float_labels_with_task_multiclass():
    return dict(model=Net(out=1), loss=nn.L1Loss(), inputs=features(), target=labels().float().unsqueeze(1),
                task="multiclass")


@setup("AL008", True)
def mse_on_integer_binary_labels():
    return dict(model=SmallCNN(1), loss=F.mse_loss, inputs=images(), target=labels(16, 2).unsqueeze(1))


@setup("AL008", True)
def almanac_huber_on_class_indices():
    return dict(model=mlp(10, 32, 4), loss="huber", inputs=features(), target=labels(64, 4))


@setup("AL008", False)
def mse_on_real_values():
    return dict(model=mlp(10, 32, 1), loss=nn.MSELoss(), inputs=features(), target=values())


@setup("AL008", False)
def poisson_on_counts():
    counts = torch.poisson(torch.full((64, 1), 3.0), generator=_gen(7))
    return dict(model=Net(out=1), loss=nn.PoissonNLLLoss(), inputs=features(), target=counts)


# -- AL009 classification loss on continuous targets ------------------------------------------------------------
@setup("AL009", True)
def cross_entropy_on_prices():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(),
                target=values(low=0, high=100).squeeze(1))


@setup("AL009", True)
def bce_with_logits_on_real_values():
    return dict(model=Net(out=1), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=values(low=-3, high=3))


@setup("AL009", True)
def nll_on_continuous_targets():
    return dict(model=Net(head=lambda x: torch.log_softmax(x, 1)), loss=nn.NLLLoss(), inputs=features(),
                target=values(low=0.2, high=2.7).squeeze(1))


@setup("AL009", True)
def almanac_bce_with_regression_task():
    return dict(model=SmallCNN(1), loss="binary_cross_entropy", inputs=images(),
                target=values(16, low=0.0, high=1.0), task="regression")


@setup("AL009", False)
def cross_entropy_on_labels():
    return dict(model=SmallCNN(10), loss=nn.CrossEntropyLoss(), inputs=images(), target=labels(16, 10))


@setup("AL009", False)
def bce_with_logits_on_soft_labels():
    return dict(model=Net(out=1), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=values(low=0.05, high=0.95))


# -- AL010 target format ----------------------------------------------------------------------------------------
@setup("AL010", True)
def cross_entropy_with_column_target():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels().unsqueeze(1))


@setup("AL010", True)
def cross_entropy_with_float_labels():
    return dict(model=Net(), loss=F.cross_entropy, inputs=features(), target=labels().float())


@setup("AL010", True)
def one_based_labels_against_ten_units():
    return dict(model=SmallCNN(10), loss=nn.CrossEntropyLoss(), inputs=images(), target=labels(16, 10) + 1)


@setup("AL010", True)
def bce_with_logits_column_output_against_flat_target():
    return dict(model=mlp(10, 32, 1), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=binary().squeeze(1))


@setup("AL010", True)
def mse_column_output_against_flat_target():
    return dict(model=Net(out=1), loss=nn.MSELoss(), inputs=features(), target=values().squeeze(1))


@setup("AL010", True)
def bce_with_minus_one_plus_one_labels():
    return dict(model=Net(out=1), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=binary() * 2 - 1)


@setup("AL010", True)
def cross_entropy_on_one_output_unit():
    return dict(model=mlp(10, 32, 1), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels(64, 2))


@setup("AL010", False)
def cross_entropy_with_ignored_labels():
    y = labels()
    y[::7] = -100
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=y)


@setup("AL010", False)
def mse_matching_shapes():
    return dict(model=Net(out=1), loss=nn.MSELoss(), inputs=features(), target=values())


@setup("AL010", False)
def almanac_bce_matching_shapes():
    return dict(model=Net(out=1), loss=am.losses.get("bce"), inputs=features(), target=binary())


# -- AL011 imbalance judged by accuracy -------------------------------------------------------------------------
@setup("AL011", True)
def five_percent_positives_with_accuracy():
    return dict(model=Net(out=1), loss=nn.BCEWithLogitsLoss(), inputs=features(200), target=binary(200, 0.05),
                metrics=["accuracy"])


@setup("AL011", True)
def rare_class_of_three_with_accuracy():
    y = torch.cat([torch.zeros(100), torch.ones(92), torch.full((8,), 2.0)]).long()
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(200), target=y,
                metrics=[am.metrics.get("accuracy")])


@setup("AL011", True)
def three_percent_positives_with_sklearn_accuracy():
    return dict(model=mlp(10, 32, 1), loss="bce", inputs=features(200), target=binary(200, 0.03),
                metrics=[accuracy_score])


@setup("AL011", False)
def imbalanced_with_accuracy_and_f1():
    return dict(model=Net(out=1), loss=nn.BCEWithLogitsLoss(pos_weight=torch.tensor(19.0)), inputs=features(200),
                target=binary(200, 0.05), metrics=["accuracy", "f1", "average_precision"])


@setup("AL011", False)
def balanced_digits_with_accuracy():
    return dict(model=mlp(10, 32, 10), loss=nn.CrossEntropyLoss(), inputs=features(200), target=labels(200, 10),
                metrics=["accuracy"])


# -- AL012 metric that does not fit the task --------------------------------------------------------------------
@setup("AL012", True)
def accuracy_on_regression():
    return dict(model=mlp(10, 32, 1), loss=nn.MSELoss(), inputs=features(), target=values(), metrics=["accuracy"])


@setup("AL012", True)
def f1_on_regression_with_almanac_huber():
    return dict(model=Net(out=1), loss="huber", inputs=features(), target=values(), metrics=["f1"])


class HardLabels(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return (self.fc(x) > 0).float()


@setup("AL012", True)
def auroc_on_hard_labels():
    return dict(model=HardLabels(), inputs=features(), target=binary(), metrics=["auroc"])


@setup("AL012", True)
def log_loss_on_regression_task():
    return dict(model=SmallCNN(1), loss=nn.SmoothL1Loss(), inputs=images(), target=values(16),
                metrics=["log_loss"], task="regression")


@setup("AL012", True)
def r2_on_class_labels():
    return dict(model=SmallCNN(10), loss=nn.CrossEntropyLoss(), inputs=images(), target=labels(16, 10),
                metrics=["accuracy", "r2"])


@setup("AL012", False)
def rmse_mae_r2_on_regression():
    return dict(model=Net(out=1), loss=nn.HuberLoss(), inputs=features(), target=values(),
                metrics=["rmse", "mae", "r2"])


@setup("AL012", False)
def iou_and_dice_on_segmentation_masks():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))
    return dict(model=model, loss=nn.CrossEntropyLoss(), inputs=images(4, size=16),
                target=torch.randint(0, 3, (4, 16, 16), generator=_gen(12)), metrics=["iou", "dice"])


@setup("AL012", False)
def accuracy_and_f1_on_multiclass():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels(),
                metrics=["accuracy", "f1"])


@setup("AL012", False)
def auroc_on_binary_scores():
    return dict(model=Net(out=1), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=binary(),
                metrics=["auroc", "average_precision"])


@setup("AL012", False)
def sklearn_r2_on_regression():
    return dict(model=mlp(10, 32, 1), loss=nn.MSELoss(), inputs=features(), target=values(), metrics=[r2_score])


# -- AL013 the loss does not reach the parameters ---------------------------------------------------------------
@setup("AL013", True)
def error_rate_as_loss():
    return dict(model=mlp(10, 32, 3), loss=lambda out, y: (out.argmax(1) != y).float().mean(), inputs=features(),
                target=labels())


@setup("AL013", True)
def rounded_output_with_mse():
    return dict(model=Net(out=1, head=lambda x: torch.round(torch.sigmoid(x))), loss=nn.MSELoss(),
                inputs=features(), target=binary())


@setup("AL013", True)
def thresholded_scores_in_custom_loss():
    return dict(model=SmallCNN(1), loss=lambda out, y: F.mse_loss((out > 0).float(), y), inputs=images(),
                target=binary(16))


@setup("AL013", True)
def detached_output():
    return dict(model=Net(out=1, head=lambda x: x.detach()), loss=nn.MSELoss(), inputs=features(), target=values())


@setup("AL013", False)
def cross_entropy_reaches_parameters():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


@setup("AL013", False)
def custom_loss_with_penalty():
    return dict(model=Net(), loss=lambda out, y: F.cross_entropy(out, y) + 1e-3 * out.pow(2).mean(),
                inputs=features(), target=labels())


# -- AL014 dead ReLUs -------------------------------------------------------------------------------------------
def _bias(layer: nn.Module, value: float) -> nn.Module:
    with torch.no_grad():
        layer.bias.fill_(value)
    return layer


@setup("AL014", True)
def relu_after_large_negative_bias():
    model = nn.Sequential(_bias(nn.Linear(10, 64), -10.0), nn.ReLU(), nn.Linear(64, 3))
    return dict(model=model, loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


@setup("AL014", True)
def cnn_relu_after_negative_conv_bias():
    model = SmallCNN(10)
    _bias(model.features[0], -20.0)
    return dict(model=model, loss=nn.CrossEntropyLoss(), inputs=images(), target=labels(16, 10))


@setup("AL014", True)
def functional_relu_after_negative_bias():
    model = Net()
    _bias(model.fc1, -5.0)
    return dict(model=model, loss=F.cross_entropy, inputs=features(), target=labels())


@setup("AL014", False)
def relu_mlp_default_init():
    return dict(model=mlp(10, 64, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


@setup("AL014", False)
def relu_cnn_default_init():
    return dict(model=SmallCNN(10), loss=nn.CrossEntropyLoss(), inputs=images(), target=labels(16, 10))


# -- AL015 saturation / vanishing gradients ---------------------------------------------------------------------
@setup("AL015", True)
def tanh_on_huge_pre_activations():
    model = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 1))
    with torch.no_grad():
        model[0].weight.mul_(50.0)
    return dict(model=model, loss=nn.MSELoss(), inputs=features(), target=values())


@setup("AL015", True)
def sigmoid_layer_with_large_init():
    model = Net(out=1)
    model.fc1 = nn.Linear(10, 32)
    nn.init.normal_(model.fc1.weight, std=10.0)

    class Sig(Net):
        def forward(self, x):
            return self.fc2(torch.sigmoid(self.fc1(x)))

    sig = Sig(out=1)
    sig.load_state_dict(model.state_dict())
    return dict(model=sig, loss=nn.BCEWithLogitsLoss(), inputs=features(), target=binary())


@setup("AL015", True)
def scaled_functional_tanh():
    class Scaled(Net):
        def forward(self, x):
            return self.fc2(torch.tanh(30.0 * self.fc1(x)))

    return dict(model=Scaled(), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


@setup("AL015", False)
def tanh_mlp_default_init():
    model = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    return dict(model=model, loss=nn.MSELoss(), inputs=features(), target=values())


@setup("AL015", False)
def confident_sigmoid_output_of_a_trained_classifier():
    model = mlp(10, 32, 1, nn.Sigmoid())
    with torch.no_grad():
        model[4].weight.mul_(100.0)  # large logits, as after training: saturation of the output is confidence
    return dict(model=model, loss=nn.BCELoss(), inputs=features(), target=binary())


@setup("AL015", False)
def sigmoid_output_with_bce():
    return dict(model=mlp(10, 32, 1, nn.Sigmoid()), loss=nn.BCELoss(), inputs=features(), target=binary())


# -- AL016 NaN or inf -------------------------------------------------------------------------------------------
@setup("AL016", True)
def log_of_linear_output():
    return dict(model=Net(out=1, head=torch.log), loss=nn.MSELoss(), inputs=features(), target=values(low=0.1))


@setup("AL016", True)
def inputs_with_missing_values():
    x = features()
    x[3, 2] = float("nan")
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=x, target=labels())


@setup("AL016", True)
def sqrt_of_scores_in_forward():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 1))
    return dict(model=SqrtHead(model), loss=nn.MSELoss(), inputs=images(), target=torch.rand(16, 1, 28, 28))


class SqrtHead(nn.Module):
    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return self.body(x).sqrt()


@setup("AL016", True)
def naive_log_loss_on_relu_output():
    return dict(model=Net(out=1, head=F.relu), loss=lambda p, y: -(y * torch.log(p)).mean(), inputs=features(),
                target=binary())


class MaskedAttention(nn.Module):
    """Self-attention written by hand, future positions masked with -inf before the softmax."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 48)
        self.out = nn.Linear(16, 3)

    def forward(self, x):  # (N, T, 8)
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        scores = q @ k.transpose(1, 2) / 4.0
        causal = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool).tril()
        weights = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
        return self.out((weights @ v).mean(dim=1))


@setup("AL016", False)
def causal_attention_masked_with_minus_inf():
    return dict(model=MaskedAttention(), loss=nn.CrossEntropyLoss(), inputs=torch.randn(6, 5, 8, generator=_gen(13)),
                target=labels(6))


@setup("AL016", False)
def stable_custom_log_loss():
    return dict(model=Net(out=1), loss=lambda z, y: -(y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)).mean(),
                inputs=features(), target=binary())


@setup("AL016", False)
def log_of_softplus_output():
    return dict(model=Net(out=1, head=lambda x: torch.log(F.softplus(x) + 1e-6)), loss=nn.MSELoss(),
                inputs=features(), target=values())


# -- AL017 softmax over the batch dimension ---------------------------------------------------------------------
@setup("AL017", True)
def softmax_layer_over_dim_zero():
    return dict(model=mlp(10, 32, 3, nn.Softmax(dim=0)))


@setup("AL017", True)
def functional_softmax_over_dim_zero():
    return dict(model=Net(head=lambda x: torch.softmax(x, 0)), inputs=features())


class Tagger(nn.Module):
    """Per-token classes over (N, T, F) inputs; nn.Softmax() without dim picks dim 0 on 3-d input."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)
        self.out = nn.Linear(16, 4)
        self.softmax = nn.Softmax()

    def forward(self, x):
        return self.softmax(self.out(torch.relu(self.proj(x))))


@setup("AL017", True)
def implicit_softmax_dim_on_sequence_output():
    return dict(model=Tagger(), inputs=torch.randn(6, 12, 8, generator=_gen(8)))


@setup("AL017", True)
def softmax_over_a_flat_score_per_sample():
    return dict(model=nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1), nn.Flatten(0), nn.Softmax(dim=0)))


@setup("AL017", False)
def softmax_layer_over_classes():
    return dict(model=mlp(10, 32, 3, nn.Softmax(dim=1)), inputs=features())


class AttentionPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)
        self.score = nn.Linear(16, 1)
        self.out = nn.Linear(16, 3)

    def forward(self, x):  # x: (N, T, 8)
        h = torch.tanh(self.proj(x))
        weights = torch.softmax(self.score(h), dim=1)  # over time
        return self.out((weights * h).sum(dim=1))


@setup("AL017", False)
def attention_pooling_softmax_over_time():
    return dict(model=AttentionPool(), loss=nn.CrossEntropyLoss(), inputs=torch.randn(6, 12, 8, generator=_gen(8)),
                target=labels(6))


# -- AL018 inputs far from normalised ---------------------------------------------------------------------------
@setup("AL018", True)
def prices_in_dollars():
    return dict(model=mlp(10, 32, 1), loss=nn.MSELoss(), inputs=features() * 1000 + 5000, target=values())


@setup("AL018", True)
def raw_pixels_0_255():
    return dict(model=SmallCNN(10), loss=nn.CrossEntropyLoss(),
                inputs=torch.randint(0, 256, (16, 1, 28, 28), generator=_gen(9)).float(), target=labels(16, 10))


@setup("AL018", True)
def years_as_a_feature():
    x = features()
    x[:, 0] = 2000 + 10 * x[:, 0]
    return dict(model=Net(), loss=nn.CrossEntropyLoss(), inputs=x, target=labels())


@setup("AL018", False)
def standardised_features():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())


@setup("AL018", False)
def pixels_scaled_to_unit_interval():
    return dict(model=SmallCNN(10), loss=nn.CrossEntropyLoss(), inputs=torch.rand(16, 1, 28, 28, generator=_gen(9)),
                target=labels(16, 10))


# -- AL019 deep sigmoid / tanh stacks ---------------------------------------------------------------------------
@setup("AL019", True)
def six_sigmoid_layers():
    layers: list[nn.Module] = [nn.Linear(10, 32), nn.Sigmoid()]
    for _ in range(5):
        layers += [nn.Linear(32, 32), nn.Sigmoid()]
    return dict(model=nn.Sequential(*layers, nn.Linear(32, 3)), loss=nn.CrossEntropyLoss())


class DeepTanh(nn.Module):
    def __init__(self, depth: int = 5):
        super().__init__()
        self.inp = nn.Linear(10, 32)
        self.blocks = nn.ModuleList(nn.Linear(32, 32) for _ in range(depth - 1))
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        x = torch.tanh(self.inp(x))
        for block in self.blocks:
            x = torch.tanh(block(x))
        return self.out(x)


@setup("AL019", True)
def module_list_of_functional_tanh():
    return dict(model=DeepTanh(5), loss=nn.MSELoss())


@setup("AL019", True)
def deep_cnn_with_tanh():
    layers: list[nn.Module] = [nn.Conv2d(1, 8, 3, padding=1), nn.Tanh()]
    for _ in range(4):
        layers += [nn.Conv2d(8, 8, 3, padding=1), nn.Tanh()]
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    return dict(model=model, loss=nn.CrossEntropyLoss())


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True)
        self.out = nn.Linear(32, 2)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.out(h[:, -1])


@setup("AL019", False)
def lstm_classifier():
    return dict(model=LSTMClassifier(), loss=nn.CrossEntropyLoss(),
                inputs=torch.randint(0, 100, (16, 9), generator=_gen(10)), target=labels(16, 2))


class ElmanRNN(nn.Module):
    """One tanh cell unrolled over the time steps: one layer, not a deep stack."""

    def __init__(self):
        super().__init__()
        self.cell = nn.Linear(8 + 16, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):  # (N, T, 8)
        h = x.new_zeros(x.shape[0], 16)
        for t in range(x.shape[1]):
            h = torch.tanh(self.cell(torch.cat([x[:, t], h], dim=1)))
        return self.out(h)


@setup("AL019", False)
def unrolled_tanh_rnn_cell():
    return dict(model=ElmanRNN(), loss=nn.CrossEntropyLoss(), inputs=torch.randn(6, 10, 8, generator=_gen(11)),
                target=labels(6))


@setup("AL019", False)
def deep_relu_mlp():
    layers: list[nn.Module] = [nn.Linear(10, 32), nn.ReLU()]
    for _ in range(5):
        layers += [nn.Linear(32, 32), nn.ReLU()]
    return dict(model=nn.Sequential(*layers, nn.Linear(32, 3)), loss=nn.CrossEntropyLoss(), inputs=features(),
                target=labels())


@setup("AL019", False)
def two_tanh_layers():
    return dict(model=DeepTanh(2), loss=nn.MSELoss(), inputs=features(), target=values())


# -- AL020 non-negative last activation with a logits loss ------------------------------------------------------
@setup("AL020", True)
def relu_on_last_layer_with_cross_entropy():
    return dict(model=mlp(10, 32, 3, nn.ReLU()), loss=nn.CrossEntropyLoss())


@setup("AL020", True)
def softplus_head_with_bce_with_logits():
    return dict(model=Net(out=1, head=F.softplus), loss=nn.BCEWithLogitsLoss(), inputs=features(), target=binary())


@setup("AL020", True)
def sigmoid_head_with_cross_entropy():
    return dict(model=SmallCNN(10, nn.Sigmoid()), loss=nn.CrossEntropyLoss())


@setup("AL020", True)
def softmax_head_with_almanac_bce():
    return dict(model=mlp(10, 32, 5, nn.Softmax(dim=1)), loss="binary_cross_entropy")


@setup("AL020", True)
def relu_head_then_custom_cross_entropy_with_penalty():
    return dict(model=Net(head=F.relu), loss=lambda out, y: F.cross_entropy(out, y) + 1e-4 * out.pow(2).sum(),
                inputs=features(), target=labels())


@setup("AL020", False)
def softplus_output_for_non_negative_regression():
    return dict(model=mlp(10, 32, 1, nn.Softplus()), loss=nn.MSELoss(), inputs=features(), target=values(low=0, high=3))


@setup("AL020", False)
def logits_with_almanac_cross_entropy():
    return dict(model=SmallCNN(10), loss=am.losses.get("cross_entropy"), inputs=images(), target=labels(16, 10))


# -- AL000 part of the model was not analysed (an info note, not an error) ----------------------------------------
@setup("AL000", True)
def torchscript_model_is_not_analysed():
    return dict(model=torch.jit.script(mlp(10, 32, 3)), loss=nn.CrossEntropyLoss(), inputs=features(),
                target=labels())


@setup("AL000", False)
def the_same_model_in_eager_mode_is_analysed():
    return dict(model=mlp(10, 32, 3), loss=nn.CrossEntropyLoss(), inputs=features(), target=labels())
