"""The head table: every (task, target kind) → head pinned against what its outputs must mean."""

import pytest
import torch

import almanac as am
from almanac.train.job import HEADS, RunConfig, _encode, _output, _target_kind, prepare

G = torch.Generator().manual_seed(0)
N, C = 6, 3

# (task, kind) → (raw outputs, inference activation, what the metrics must receive, natural target, loss target)
_y_bin = torch.tensor([0, 1, 1, 0, 1, 0])
_y_cls = torch.tensor([0, 2, 1, 1, 0, 2])
_y_lab = torch.randint(0, 2, (N, C), generator=G).float()
_y_seg = torch.randint(0, C, (N, 4, 4), generator=G)
_y_val = torch.randn(N, generator=G)
_z1, _z2, _zc, _zs = (torch.randn(N, generator=G), torch.randn(N, 2, generator=G), torch.randn(N, C, generator=G),
                      torch.randn(N, C, 4, 4, generator=G))
PINNED = {
    ("binary", "binary"): (_z1, "sigmoid", _z1.sigmoid(), _y_bin, _y_bin.float()),
    # two class scores: the metrics take P(y = 1), the softmax's column 1 (column 0 is P(y = 0))
    ("binary", "class_indices"): (_z2, "softmax", _z2.softmax(1)[:, 1], _y_bin, _y_bin),
    ("binary", "mask"): (_z1[:, None], "sigmoid", _z1.sigmoid(), _y_bin, _y_bin.float()[:, None]),
    ("multiclass", "class_indices"): (_zc, "softmax", _zc.softmax(1), _y_cls, _y_cls),
    ("multiclass", "soft_labels"): (_zc, "softmax", _zc.softmax(1), _y_cls,
                                    torch.nn.functional.one_hot(_y_cls, C).float()),
    ("multilabel", "binary"): (_zc, "sigmoid", _zc.sigmoid(), _y_lab, _y_lab),
    ("multilabel", "mask"): (_zc, "sigmoid", _zc.sigmoid(), _y_lab, _y_lab),
    ("segmentation", "class_indices"): (_zs, "softmax", _zs.softmax(1), _y_seg, _y_seg),
    ("segmentation", "binary"): (_zs, "softmax", _zs.softmax(1), _y_seg,
                                 torch.nn.functional.one_hot(_y_seg, C).movedim(-1, 1).float()),
    ("regression", "real"): (_z1, "identity", _z1, _y_val, _y_val),
    ("regression", "log_rate"): (_z1, "exp", _z1.exp(), _y_val, _y_val),
    ("regression", "mean_variance"): (_z2, "identity", _z2[:, 0], _y_val, _y_val),
}


def test_every_head_is_pinned():
    assert set(PINNED) == set(HEADS)


@pytest.mark.parametrize("key", list(PINNED), ids=lambda k: "-".join(k))
def test_head_outputs_and_targets_mean_what_they_should(key):
    raw, inference, metric_input, y, loss_target = PINNED[key]
    head = HEADS[key]
    torch.testing.assert_close(_output(head, inference, "identity")(raw), metric_input)
    encoded, metric_target = _encode(head, y, C)
    torch.testing.assert_close(encoded, loss_target)
    assert metric_target.dtype == (torch.int64 if head.metric_target == "long" else y.dtype)
    # a model that ends with the activation itself (a loss of probabilities): the metrics take its output as is
    if inference not in ("identity", "exp"):
        ended = _output(head, inference, inference)(metric_input if head.column is None else raw.softmax(1))
        expected = metric_input if head.column is None else raw.softmax(1)[:, head.column]
        torch.testing.assert_close(ended, expected)


def _cases():
    for name in am.losses.names():
        for task in am.losses.spec(name).tasks:
            if task != "adversarial":
                yield name, task


@pytest.mark.parametrize(("loss", "task"), list(_cases()))
def test_every_loss_of_the_catalog_finds_its_head_from_the_spec(loss, task):
    spec = am.losses.spec(loss)
    params = {"task": "multiclass" if task == "segmentation" else task} if "task" in spec.params else {}
    assert (task, _target_kind(task, loss, params)) in HEADS


def test_gaussian_nll_head_trains_the_variance_against_the_reference():
    job = prepare(RunConfig(dataset="diabetes", loss="gaussian_nll", hidden=(8,)))
    x, y = job.train_set[0][:32], job.train_set[1][:32]
    out = job.model(x)
    assert out.shape == (32, 2) and (out[:, 1] > 0).all()
    value = job.loss(out, y)
    reference = torch.nn.functional.gaussian_nll_loss(out[:, 0].double(), y.double(), out[:, 1].double())
    torch.testing.assert_close(value.double(), reference, rtol=1e-5, atol=1e-6)
    value.backward()
    last = [m for m in job.model.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert last.weight.grad[1].abs().sum() > 0  # the variance unit learns: its head is not detached
    torch.testing.assert_close(job.output(out), out[:, 0])


DATASET = {"binary": "moons", "multiclass": "iris", "multilabel": "multilabel", "regression": "diabetes",
           "segmentation": "shapes"}


@pytest.mark.parametrize(("loss", "task"), list(_cases()))
def test_predict_agrees_with_what_the_metrics_saw_for_every_head(loss, task):
    from almanac.train.inference import Predictor

    job = prepare(RunConfig(dataset=DATASET[task], loss=loss, hidden=(4,)), am.train.data.load(DATASET[task]))
    predictor = Predictor(None, job.config, job.data.preprocessing, job.model.eval(), job.inference, 0)
    x = job.data.raw_val[:8]
    scores = predictor.scores_of_encoded(x)
    with torch.no_grad():
        metric_input = job.output(job.model(job.data.x_val[:8]))
    if task == "binary":
        scores = scores.reshape(len(scores), -1)[:, -1]  # the positive class, as Predictor.predict reads it
    if task == "regression" and scores.ndim == 2:
        scores = scores[:, 0]  # the means of a mean-variance head
    torch.testing.assert_close(scores, metric_input, rtol=1e-5, atol=1e-5)
