"""scikit-learn drop-in: ``sample_weight`` on every metric scikit-learn weights (values equal scikit-learn's, and
the weights live in the states: streaming and merging hold)."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_inputs import assert_close

import almanac as am
from almanac.errors import ConfigError, DomainError, ShapeError

RNG = np.random.default_rng(11)
N, C = 120, 4
W = RNG.integers(0, 4, N) * RNG.random(N)  # zeros included
W_LIST = W.tolist()
Y2, S2 = RNG.integers(0, 2, N), np.round(RNG.random(N), 2)  # ties in the scores
YC = RNG.integers(0, C, N)
PC = RNG.integers(0, C, N)
PROBS = RNG.dirichlet(np.ones(C), N)
YL, SL = RNG.integers(0, 2, (N, 3)), np.round(RNG.random((N, 3)), 1)

COUNTING = [
    ("accuracy", {}, lambda t, p, w: skm.accuracy_score(t, p, sample_weight=w)),
    ("precision", {"average": "macro"}, lambda t, p, w: skm.precision_score(t, p, average="macro", sample_weight=w)),
    ("recall", {"average": "weighted"}, lambda t, p, w: skm.recall_score(t, p, average="weighted", sample_weight=w)),
    ("f1", {"average": "micro"}, lambda t, p, w: skm.f1_score(t, p, average="micro", sample_weight=w)),
    ("f1", {"average": "none"}, lambda t, p, w: skm.f1_score(t, p, average=None, sample_weight=w)),
    ("fbeta", {"beta": 2.0, "average": "macro"},
     lambda t, p, w: skm.fbeta_score(t, p, beta=2.0, average="macro", sample_weight=w)),
    ("confusion_matrix", {}, lambda t, p, w: skm.confusion_matrix(t, p, sample_weight=w)),
    ("confusion_matrix", {"normalize": "true"},
     lambda t, p, w: skm.confusion_matrix(t, p, sample_weight=w, normalize="true")),
    ("balanced_accuracy", {}, lambda t, p, w: skm.balanced_accuracy_score(t, p, sample_weight=w)),
    ("matthews_corrcoef", {}, lambda t, p, w: skm.matthews_corrcoef(t, p, sample_weight=w)),
    ("cohen_kappa", {"weights": "quadratic"},
     lambda t, p, w: skm.cohen_kappa_score(t, p, weights="quadratic", sample_weight=w)),
    ("iou", {"average": "macro"}, lambda t, p, w: skm.jaccard_score(t, p, average="macro", sample_weight=w)),
]


@pytest.mark.parametrize(("name", "kw", "reference"), COUNTING, ids=[f"{n}-{k}" for n, k, _ in COUNTING])
def test_weighted_counting_metrics_equal_scikit_learn(name, kw, reference):
    got = getattr(am.metrics, name)(PC, YC, sample_weight=W, num_classes=C, **kw)
    assert_close(got, reference(YC, PC, W))


@pytest.mark.parametrize("name", ["f1", "precision", "recall", "accuracy", "iou"])
def test_weighted_binary_and_multilabel_equal_scikit_learn(name):
    sk = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score,
          "iou": skm.jaccard_score}.get(name)
    p2 = (S2 > 0.5).astype(int)
    if sk is None:
        assert_close(am.metrics.accuracy(S2, Y2, sample_weight=W), skm.accuracy_score(Y2, p2, sample_weight=W))
        return
    assert_close(getattr(am.metrics, name)(S2, Y2, sample_weight=W), sk(Y2, p2, sample_weight=W))
    pl = (SL > 0.5).astype(int)
    assert_close(getattr(am.metrics, name)(SL, YL, task="multilabel", average="macro", sample_weight=W),
                 sk(YL, pl, average="macro", sample_weight=W))


def test_weighted_log_loss_and_top_k_equal_scikit_learn():
    assert_close(am.metrics.log_loss(PROBS, YC, sample_weight=W), skm.log_loss(YC, PROBS, sample_weight=W))
    assert_close(am.metrics.log_loss(S2, Y2, sample_weight=W), skm.log_loss(Y2, S2, sample_weight=W))
    assert_close(am.metrics.accuracy(PROBS, YC, top_k=2, sample_weight=W),
                 skm.top_k_accuracy_score(YC, PROBS, k=2, sample_weight=W))


@pytest.mark.parametrize("average", ["macro", "weighted", "micro"])
def test_weighted_ranking_equals_scikit_learn(average):
    assert_close(am.metrics.auroc(S2, Y2, sample_weight=W), skm.roc_auc_score(Y2, S2, sample_weight=W))
    assert_close(am.metrics.average_precision(S2, Y2, sample_weight=W),
                 skm.average_precision_score(Y2, S2, sample_weight=W))
    assert_close(am.metrics.auroc(SL, YL, task="multilabel", average=average, sample_weight=W),
                 skm.roc_auc_score(YL, SL, average=average, sample_weight=W))
    assert_close(am.metrics.average_precision(SL, YL, task="multilabel", average=average, sample_weight=W),
                 skm.average_precision_score(YL, SL, average=average, sample_weight=W))
    if average != "micro":
        assert_close(am.metrics.auroc(PROBS, YC, average=average, sample_weight=W),
                     skm.roc_auc_score(YC, PROBS, multi_class="ovr", average=average, sample_weight=W))


def test_weighted_curves_equal_scikit_learn():
    fpr, tpr, thr = am.metrics.roc_curve(S2, Y2, sample_weight=W)
    want = skm.roc_curve(Y2, S2, sample_weight=W)
    for a, b in zip((fpr, tpr, thr[1:]), (want[0], want[1], want[2][1:])):
        assert_close(a, b)
    precision, recall, thresholds = am.metrics.pr_curve(S2, Y2, sample_weight=W)
    p, r, t = skm.precision_recall_curve(Y2, S2, sample_weight=W, drop_intermediate=False)
    for a, b in zip((precision, recall, thresholds), (p, r, t)):  # zero-weight samples set no threshold
        assert_close(a, b)


REGRESSION = {"mse": skm.mean_squared_error, "rmse": skm.root_mean_squared_error, "mae": skm.mean_absolute_error,
              "msle": skm.mean_squared_log_error, "rmsle": skm.root_mean_squared_log_error,
              "mape": skm.mean_absolute_percentage_error, "r2": skm.r2_score,
              "explained_variance": skm.explained_variance_score}


@pytest.mark.parametrize("name", list(REGRESSION))
@pytest.mark.parametrize("outputs", [1, 3])
def test_weighted_regression_equals_scikit_learn(name, outputs):
    shape = (N,) if outputs == 1 else (N, outputs)
    target = 100 + RNG.random(shape) * 3  # |mean| ≫ std: the shifted moments must keep their precision
    preds = target + RNG.normal(0, 0.5, shape)
    assert_close(getattr(am.metrics, name)(preds, target, sample_weight=W), REGRESSION[name](target, preds,
                                                                                              sample_weight=W),
                 rtol=1e-8)


@pytest.mark.parametrize(("name", "preds", "target", "kw"), [
    ("f1", PC, YC, {"num_classes": C, "average": "macro"}),
    ("auroc", PROBS, YC, {}),
    ("r2", S2 * 3, S2 * 2 + Y2, {}),
    ("log_loss", PROBS, YC, {}),
])
def test_weights_stream_and_merge(name, preds, target, kw):
    whole = getattr(am.metrics, name)(preds, target, sample_weight=W, **kw)
    left, right = am.metrics.get(name, **kw), am.metrics.get(name, **kw)
    left.update(preds[:50], target[:50], sample_weight=W[:50])
    left.update(preds[50:70], target[50:70], sample_weight=W_LIST[50:70])
    right.update(torch.as_tensor(preds[70:]), torch.as_tensor(target[70:]), sample_weight=torch.as_tensor(W[70:]))
    state = left.state_dict()
    restored = am.metrics.get(name, **kw)
    restored.load_state_dict(state)
    assert_close(float(restored.merge(right).compute()), whole, rtol=1e-9)


def test_unweighted_batches_weigh_one_in_a_weighted_stream():
    m = am.metrics.F1(num_classes=C, average="macro")
    m.update(PC[:60], YC[:60], sample_weight=W[:60])
    m.update(PC[60:], YC[60:])
    assert_close(m.compute(), skm.f1_score(YC, PC, average="macro", sample_weight=np.r_[W[:60], np.ones(N - 60)]))
    later = am.metrics.F1()
    later.update([0, 1], [0, 1])
    with pytest.raises(ConfigError, match="sample_weight"):
        later.update([0, 1], [0, 1], sample_weight=[1.0, 2.0])


def test_bad_weights_raise_typed_errors():
    with pytest.raises(ShapeError, match="sample_weight"):
        am.metrics.f1([0, 1, 1], [0, 1, 0], sample_weight=[1.0, 2.0])
    with pytest.raises(DomainError, match="sample_weight"):
        am.metrics.mse([0.0, 1.0], [0.0, 1.0], sample_weight=[1.0, -1.0])
    with pytest.raises(ConfigError, match="sample_weight"):
        am.metrics.CalibrationError().update([0.2, 0.8], [0, 1], sample_weight=[1.0, 1.0])
    with pytest.raises(ConfigError, match="bins"):
        am.metrics.auroc([0.2, 0.8], [0, 1], bins=16, sample_weight=[1.0, 1.0])
    assert "sample_weight" not in am.metrics.spec("f1").params  # data, not a parameter of the metric


# -- max_fpr, float-coded labels, classification_report --------------------------------------------------------------
@pytest.mark.parametrize("max_fpr", [0.05, 0.3, 0.5, 0.99, 1.0])
def test_partial_auroc_equals_scikit_learn(max_fpr):
    assert am.metrics.auroc([0.0, 0.0, 1.0, 1.0], [0, 0, 1, 1], max_fpr=max_fpr) == 1.0  # perfect: 1 at any max_fpr
    assert_close(am.metrics.auroc(S2, Y2, max_fpr=max_fpr), skm.roc_auc_score(Y2, S2, max_fpr=max_fpr))
    assert_close(am.metrics.auroc(S2, Y2, max_fpr=max_fpr, sample_weight=W),
                 skm.roc_auc_score(Y2, S2, max_fpr=max_fpr, sample_weight=W))
    assert_close(am.metrics.auroc(SL, YL, task="multilabel", max_fpr=max_fpr),
                 skm.roc_auc_score(YL, SL, max_fpr=max_fpr))
    with pytest.raises(ConfigError, match="max_fpr"):
        am.metrics.auroc(PROBS, YC, num_classes=C, max_fpr=0.5)


def test_float_coded_labels_follow_one_rule_by_dtype():
    """A float target holds labels (whole numbers); float preds are scores, never labels: float-coded 0.0 / 1.0
    predictions give the labels' result through the threshold, multiclass ones (2.0) raise naming the cast."""
    y_true, y_pred = np.array([0.0, 1.0, 2.0, 2.0, 1.0]), np.array([0.0, 2.0, 2.0, 1.0, 1.0])
    assert_close(am.metrics.f1(y_pred.astype(int), y_true, average="macro"),
                 skm.f1_score(y_true, y_pred, average="macro"))
    binary_t, binary_p = np.array([1.0, 1.0, 0.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    for name, reference in (("f1", skm.f1_score), ("accuracy", skm.accuracy_score), ("recall", skm.recall_score)):
        assert_close(getattr(am.metrics, name)(binary_p, binary_t), reference(binary_t, binary_p))
    multilabel_t, multilabel_p = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [0.0, 1.0]])
    assert_close(am.metrics.f1(multilabel_p, multilabel_t, average="macro"),
                 skm.f1_score(multilabel_t, multilabel_p, average="macro"))
    for kw in ({}, {"num_classes": 3}, {"task": "multiclass"}):
        with pytest.raises(am.errors.TargetError, match=r"float-coded labels up to 2 — cast them to integers"):
            am.metrics.f1(y_pred, y_true, average="macro", **kw)
    with pytest.raises(am.errors.TargetError, match="fraction"):
        am.metrics.f1([0, 1], [0.5, 1.0])
    with pytest.raises(DomainError, match="probabilities"):  # fractions above 1 are not labels either
        am.metrics.f1([0.5, 1.5], [0, 1])


def test_classification_report_reproduces_scikit_learns_example():
    # scikit-learn's documented example: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1]
    text = am.metrics.classification_report([0, 0, 2, 2, 1], [0, 1, 2, 2, 2],
                                             target_names=["class 0", "class 1", "class 2"])
    assert text == (
        "              precision    recall  f1-score   support\n\n"
        "     class 0       0.50      1.00      0.67         1\n"
        "     class 1       0.00      0.00      0.00         1\n"
        "     class 2       1.00      0.67      0.80         3\n\n"
        "    accuracy                           0.60         5\n"
        "   macro avg       0.50      0.56      0.49         5\n"
        "weighted avg       0.70      0.60      0.61         5\n")


@pytest.mark.parametrize("weights", [None, W.round() / 2, W], ids=["unweighted", "halves", "weighted"])
@pytest.mark.parametrize("digits", [2, 4])
def test_classification_report_equals_scikit_learn(weights, digits):
    if weights is not W:  # sums of arbitrary weights may differ in the last bit with the order of summation
        assert am.metrics.classification_report(PC, YC, sample_weight=weights, digits=digits) == \
            skm.classification_report(YC, PC, sample_weight=weights, digits=digits)
    got = am.metrics.classification_report(PC, YC, sample_weight=weights, output_dict=True)
    want = skm.classification_report(YC, PC, sample_weight=weights, output_dict=True)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("name", ["f1", "precision", "recall", "iou"])
@pytest.mark.parametrize("zero_division", [0.0, 1.0, float("nan")])
@pytest.mark.parametrize("weights", [None, W])
def test_samples_average_equals_scikit_learn(name, zero_division, weights):
    if name == "iou" and np.isnan(zero_division):
        return  # scikit-learn's jaccard_score takes no nan
    sk = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score,
          "iou": skm.jaccard_score}[name]
    pl = (SL > 0.5).astype(int)
    got = getattr(am.metrics, name)(pl, YL, task="multilabel", average="samples", zero_division=zero_division,
                                    sample_weight=weights)
    assert_close(got, sk(YL, pl, average="samples", zero_division=zero_division, sample_weight=weights))
    m = am.metrics.get(name, task="multilabel", average="samples", zero_division=zero_division)
    m.update(pl[:40], YL[:40], sample_weight=None if weights is None else weights[:40])
    m.update(pl[40:], YL[40:], sample_weight=None if weights is None else weights[40:])
    assert_close(m.compute(), got)


def test_samples_average_is_refused_where_it_means_nothing():
    with pytest.raises(ConfigError, match="samples"):
        am.metrics.f1([0, 1], [0, 1], average="samples")
    with pytest.raises(ConfigError, match="samples"):
        am.metrics.accuracy(YL, YL, average="samples")
    with pytest.raises(ConfigError, match="samples"):
        am.metrics.auroc(SL, YL, task="multilabel", average="samples")


@pytest.mark.parametrize("name", ["f1", "precision", "recall", "fbeta"])
def test_pos_label_equals_scikit_learn(name):
    sk = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score,
          "fbeta": lambda t, p, **k: skm.fbeta_score(t, p, beta=1.0, **k)}[name]
    p2 = (S2 > 0.5).astype(int)
    for pos_label in (0, 1):
        assert_close(getattr(am.metrics, name)(p2, Y2, pos_label=pos_label, sample_weight=W),
                     sk(Y2, p2, pos_label=pos_label, sample_weight=W))
    with pytest.raises(ConfigError, match="pos_label"):
        getattr(am.metrics, name)(p2, Y2, pos_label=2)


STRINGS_T = np.array(["cat", "dog", "fox"], dtype=object)[YC % 3]
STRINGS_P = np.array(["cat", "dog", "fox"], dtype=object)[PC % 3]


@pytest.mark.parametrize("name", ["f1", "precision", "recall", "accuracy", "confusion_matrix", "matthews_corrcoef",
                                  "cohen_kappa", "balanced_accuracy"])
def test_string_labels_equal_scikit_learn(name):
    sk = {"f1": lambda t, p: skm.f1_score(t, p, average="macro"),
          "precision": lambda t, p: skm.precision_score(t, p, average="weighted"),
          "recall": lambda t, p: skm.recall_score(t, p, average=None, labels=["fox", "cat", "dog"]),
          "accuracy": skm.accuracy_score,
          "confusion_matrix": lambda t, p: skm.confusion_matrix(t, p, labels=["fox", "cat", "dog"]),
          "matthews_corrcoef": skm.matthews_corrcoef, "cohen_kappa": skm.cohen_kappa_score,
          "balanced_accuracy": skm.balanced_accuracy_score}[name]
    kw = {"f1": {"average": "macro"}, "precision": {"average": "weighted"}, "recall": {"average": "none"}}.get(name, {})
    got = getattr(am.metrics, name)(STRINGS_P.tolist(), STRINGS_T, labels=["fox", "cat", "dog"], **kw)
    assert_close(got, sk(STRINGS_T, STRINGS_P))


def test_string_labels_stream_and_take_pos_label():
    m = am.metrics.F1(labels=["ham", "spam"], pos_label="spam")
    t, p = ["ham", "spam", "spam", "ham", "spam"], ["spam", "spam", "ham", "ham", "spam"]
    m.update(p[:2], t[:2])
    m.update(np.array(p[2:]), np.array(t[2:]))
    assert m.compute() == pytest.approx(skm.f1_score(t, p, pos_label="spam"))
    numbers = am.metrics.F1(labels=[2, 0, 1], average="none")  # numeric labels are values, not indices
    numbers.update(torch.tensor([2, 0, 1]), torch.tensor([2, 0, 0]))
    numbers.update(torch.tensor([1, 1]), torch.tensor([1, 2]))  # the later batches too
    assert_close(numbers.compute(), skm.f1_score([2, 0, 0, 1, 2], [2, 0, 1, 1, 1], average=None, labels=[2, 0, 1]),
                 rtol=1e-6)
    with pytest.raises(am.errors.TargetError, match="cow"):
        am.metrics.f1(["cow"], ["cat"], labels=["cat", "dog"])
    with pytest.raises(ConfigError, match="labels"):
        am.metrics.F1(labels=["cat", "cat"])
    report = am.metrics.classification_report(STRINGS_P, STRINGS_T, labels=["cat", "dog", "fox"])
    assert report == skm.classification_report(STRINGS_T, STRINGS_P)


def test_a_call_in_scikit_learns_order_says_so():
    with pytest.raises(am.errors.TargetError, match="preds first"):
        am.metrics.auroc(Y2, S2)  # roc_auc_score(y_true, y_score) order
    with pytest.raises(am.errors.TargetError, match="preds first"):
        am.metrics.average_precision(Y2, S2.astype(np.float32) * 0 + 1)


def _make_prediction():
    """scikit-learn's ``make_prediction(binary=False)`` (sklearn/metrics/tests/test_classification.py): a linear SVC
    on iris with 200 noise features per feature, predicting its second half."""
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    x, y = iris.data, iris.target
    rng = np.random.RandomState(0)
    order = np.arange(x.shape[0])
    rng.shuffle(order)
    x, y = x[order], y[order]
    half = x.shape[0] // 2
    x = np.c_[x, rng.randn(x.shape[0], 200 * x.shape[1])]
    return svm.SVC(kernel="linear", random_state=0).fit(x[:half], y[:half]).predict(x[half:]), y[half:]


SK_PRED, SK_TRUE = _make_prediction()
SUBSETS = [[0, 1], [2, 1], [1, 2, 5], [0, 1, 2], [2, 0], [5, 6]]  # scikit-learn's subsets, order, absent labels


@pytest.mark.parametrize("labels", SUBSETS, ids=str)
def test_labels_select_and_order_classes_as_scikit_learn(labels):
    for name, reference in (("f1", skm.f1_score), ("precision", skm.precision_score), ("recall", skm.recall_score)):
        for average in ("micro", "macro", "weighted", "none"):
            got = getattr(am.metrics, name)(SK_PRED, SK_TRUE, labels=labels, average=average, task="multiclass")
            want = reference(SK_TRUE, SK_PRED, labels=labels, average=None if average == "none" else average,
                             zero_division=0)
            assert_close(got, want)
    if not set(labels) & {0, 1, 2}:  # scikit-learn refuses a matrix of absent labels; a stream may not have seen them
        assert not am.metrics.confusion_matrix(SK_PRED, SK_TRUE, labels=labels, task="multiclass").any()
        return
    assert np.array_equal(am.metrics.confusion_matrix(SK_PRED, SK_TRUE, labels=labels, task="multiclass"),
                          skm.confusion_matrix(SK_TRUE, SK_PRED, labels=labels))
    if len(set(labels) & {0, 1, 2}) == len(labels):  # kappa of a matrix with samples
        assert_close(am.metrics.cohen_kappa(SK_PRED, SK_TRUE, labels=labels, task="multiclass"),
                     skm.cohen_kappa_score(SK_TRUE, SK_PRED, labels=labels))
    report = am.metrics.classification_report(SK_PRED, SK_TRUE, labels=labels, task="multiclass")
    assert report == skm.classification_report(SK_TRUE, SK_PRED, labels=labels, zero_division=0)
    as_dict = am.metrics.classification_report(SK_PRED, SK_TRUE, labels=labels, task="multiclass", output_dict=True)
    want = skm.classification_report(SK_TRUE, SK_PRED, labels=labels, zero_division=0, output_dict=True)
    assert as_dict.keys() == {str(k): v for k, v in want.items()}.keys()


def test_string_labels_subset_streams_and_binary_subset_names_the_fix():
    m = am.metrics.F1(labels=["fox", "cat"], task="multiclass", average="none")
    m.update(STRINGS_P[:100].tolist(), STRINGS_T[:100].tolist())
    m.update(STRINGS_P[100:], STRINGS_T[100:])
    assert_close(m.compute(), skm.f1_score(STRINGS_T, STRINGS_P, labels=["fox", "cat"], average=None))
    with pytest.raises(am.errors.TargetError, match="task='multiclass'"):
        am.metrics.f1(STRINGS_P, STRINGS_T, labels=["fox", "cat"])  # two labels read binary inputs


@pytest.mark.parametrize("pos_label", [0, 1])
@pytest.mark.parametrize("weights", [None, W], ids=["unweighted", "weighted"])
def test_pos_label_on_ranking_metrics_and_curves_equals_scikit_learn(pos_label, weights):
    scores = np.round(S2, 2)  # ties
    kw = {"pos_label": pos_label, "sample_weight": weights}
    assert_close(am.metrics.average_precision(scores, Y2, **kw),
                 skm.average_precision_score(Y2, scores, pos_label=pos_label, sample_weight=weights))
    assert_close(am.metrics.auroc(scores, Y2, **kw),
                 skm.roc_auc_score(np.equal(Y2, pos_label).astype(int), scores, sample_weight=weights))
    for got, want in zip(am.metrics.roc_curve(scores, Y2, **kw),
                         skm.roc_curve(Y2, scores, pos_label=pos_label, sample_weight=weights)):
        assert_close(got, want)
    for got, want in zip(am.metrics.pr_curve(scores, Y2, **kw),
                         skm.precision_recall_curve(Y2, scores, pos_label=pos_label, sample_weight=weights)):
        assert_close(got, want)
    m = am.metrics.AveragePrecision(pos_label=pos_label)  # streaming, and binned, read the same positives
    m.update(torch.from_numpy(scores[:50]), torch.from_numpy(Y2[:50]))
    m.update(torch.from_numpy(scores[50:]), torch.from_numpy(Y2[50:]))
    assert_close(float(m.compute()), skm.average_precision_score(Y2, scores, pos_label=pos_label), rtol=1e-6)
    binned = am.metrics.auroc(scores, Y2, pos_label=pos_label, bins=1024)
    assert abs(binned - skm.roc_auc_score(np.equal(Y2, pos_label).astype(int), scores)) < 0.01


def test_pos_label_on_ranking_metrics_is_binary_only():
    with pytest.raises(ConfigError, match="pos_label"):
        am.metrics.auroc(PROBS, YC, pos_label=0)
    with pytest.raises(ConfigError, match="pos_label"):
        am.metrics.AUROC(pos_label=2)
