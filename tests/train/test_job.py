"""Every loss and metric of the catalogs is selectable; the head fits the task and the loss."""

import functools
import json

import pytest
import torch

import almanac as am
from almanac.train.data import load
from almanac.train.job import RunConfig, prepare
from almanac.train.loop import fit

DATASET = {"binary": "moons", "multiclass": "iris", "multilabel": "multilabel", "regression": "diabetes",
           "segmentation": "shapes"}


@functools.cache
def _data(name):
    return load(name)


def _tiny(job, n=24):
    return tuple(t[:n] for t in job.train_set), tuple(t[:n] for t in job.val_set)


def _cases():
    for name in am.losses.names():
        for task in am.losses.spec(name).tasks:
            if task in DATASET:
                yield name, task


@pytest.mark.parametrize(("loss", "task"), list(_cases()))
def test_every_loss_trains_on_a_task_it_fits(loss, task):
    config = RunConfig(dataset=DATASET[task], loss=loss, hidden=(8,), epochs=1)
    job = prepare(config, _data(config.dataset))
    train, val = _tiny(job)
    h = fit(job.model, job.loss, train, val, metrics=job.metrics, output=job.output, epochs=1, batch_size=12)
    assert torch.isfinite(torch.tensor(h.last["train_loss"]))
    metric_columns = [c for c in h.columns if c.startswith("val_") and c != "val_loss"]
    assert len(metric_columns) == len(job.config.metrics)


@pytest.mark.parametrize("metric", am.metrics.names())
def test_every_metric_is_selectable_for_its_tasks(metric):
    for task in am.metrics.spec(metric).tasks:
        if task not in DATASET:
            continue
        if metric in ("roc_curve", "pr_curve", "confusion_matrix"):
            continue  # curves and matrices are drawn in the report, not history columns (tested below)
        job = prepare(RunConfig(dataset=DATASET[task], metrics=(metric,), hidden=(8,)), _data(DATASET[task]))
        _, val = _tiny(job)
        job.metrics.update(job.output(job.model(val[0])).detach(), val[2])
        assert job.metrics.compute().keys() == {metric}


def test_heads_fit_the_loss():
    ce = prepare(RunConfig(dataset="iris"))
    assert ce.model(ce.val_set[0]).shape == (30, 3) and ce.inference == "softmax"  # logits, softmax at inference
    bce = prepare(RunConfig(dataset="breast_cancer"))
    out = bce.model(bce.val_set[0])
    assert out.shape == bce.val_set[1].shape and bce.val_set[1].dtype == torch.float32  # (N,) logits, float targets
    assert ((bce.output(out) >= 0) & (bce.output(out) <= 1)).all()
    reg = prepare(RunConfig(dataset="diabetes"))
    assert abs(float(reg.model(reg.train_set[0]).detach().mean()) - reg.data.target_mean) < 0.5 * reg.data.target_std
    kl = prepare(RunConfig(dataset="iris", loss="kl_div"))
    assert kl.train_set[1].shape == (120, 3) and kl.train_set[2].shape == (120,)  # soft labels; indices for metrics


@pytest.mark.parametrize(("config", "message"), [
    (RunConfig(dataset="digits", loss="mse"), "expected `loss` to fit the task multiclass of digits, got mse"),
    (RunConfig(dataset="diabetes", loss="cross_entropy"), "pick one of: .*huber"),
    (RunConfig(dataset="moons", loss="wasserstein"), "to fit the task binary"),
    (RunConfig(dataset="digits", metrics=("r2",)), "metrics for the task multiclass, got r2"),
    (RunConfig(dataset="digits", metrics=("accuracy", "roc_curve")), "got roc_curve, a curve"),
    (RunConfig(dataset="moons", metrics=("confusion_matrix",)), "got confusion_matrix, a matrix"),
    (RunConfig(dataset="digits", model="unet"), "expected `model`"),
    (RunConfig(dataset="moons", model="cnn"), "expected `model`"),
    (RunConfig(dataset="shapes", model="mlp"), "unet for a segmentation task"),
    (RunConfig(dataset="digits", task="regression"), "leave the task unset"),
])
def test_choices_that_do_not_fit_raise_one_clear_error(config, message):
    with pytest.raises(am.ConfigError, match=message):
        prepare(config)


@pytest.mark.parametrize("field", ["activation", "loss", "metrics"])
def test_unknown_names_list_the_closest(field):
    value = {"activation": "rellu", "loss": "crossentropy", "metrics": ("acuracy",)}[field]
    with pytest.raises(am.UnknownNameError, match="did you mean"):
        prepare(RunConfig(dataset="iris", **{field: value}))


def test_auto_choices_come_from_the_advisor():
    given = RunConfig(dataset="imbalanced", activation="auto", loss="auto", metrics=("auto",))
    job = prepare(given, _data("imbalanced"))
    config = job.config
    assert given.loss == "auto" and given.reasons == [] and given.task is None  # prepare returns a new config
    advice = am.advise(job.data.y_train, task="binary")
    assert config.loss == advice.loss and config.loss_params == dict(advice.loss_params)
    assert config.metrics == advice.metrics and config.activation == "relu"
    assert any(r.startswith("loss: ") for r in config.reasons)
    seg = prepare(RunConfig(dataset="shapes", loss="auto", metrics=("auto",)), _data("shapes")).config
    assert all("segmentation" in am.metrics.spec(m).tasks for m in seg.metrics)


@pytest.mark.parametrize(("dataset", "plots"), [
    ("shapes", {"confusion_matrix.png", "examples.png"}),
    ("multilabel", {"roc.png", "pr.png"}),
    ("breast_cancer", {"confusion_matrix.png", "roc.png", "pr.png"}),
])
def test_run_writes_the_plots_of_its_task(tmp_path, dataset, plots):
    from almanac.train.job import run

    path, _, final = run(RunConfig(dataset=dataset, epochs=1, out=str(tmp_path), name="r"), progress=False)
    names = {p.name for p in path.iterdir()}
    assert plots | {"loss.png", "metrics.png", "report.html", "history.csv", "metrics.json", "config.json",
                    "checkpoint.pt", "best.pt", "preprocessing.json"} == names
    assert list(final) == list(RunConfig.from_json(json.loads((path / "config.json").read_text())).metrics)
    assert torch.load(path / "best.pt", weights_only=True)["epoch"] == 1
    assert "Best epoch: 1 of 1 by validation" in (path / "report.html").read_text()


def test_the_run_is_checked_with_almanac_check():
    from almanac.train.job import check

    assert check(prepare(RunConfig(dataset="digits"), _data("digits"))) == []
    findings = check(prepare(RunConfig(dataset="imbalanced", metrics=("accuracy",)), _data("imbalanced")))
    assert len(findings) == 1 and "AL011" in findings[0]
    deep = check(prepare(RunConfig(dataset="digits", activation="sigmoid", hidden=(32,) * 10), _data("digits")))
    assert any("AL019" in f for f in deep)


@pytest.mark.parametrize(("dataset", "model", "hidden", "default"), [
    ("iris", "mlp", (16, 8), (128, 64)), ("digits", "cnn", (4, 8), (32, 64)), ("shapes", "unet", (4, 8), (16, 32, 64)),
])
def test_hidden_sets_the_widths_of_every_model_and_defaults_to_the_builders(dataset, model, hidden, default):
    def widths(job):
        layers = [m for m in job.model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
        return {m.out_features if isinstance(m, torch.nn.Linear) else m.out_channels for m in layers}

    given = prepare(RunConfig(dataset=dataset, model=model, hidden=hidden), _data(dataset))
    assert set(hidden) <= widths(given) and not (set(default) - set(hidden)) & widths(given)
    builder = prepare(RunConfig(dataset=dataset, model=model), _data(dataset))
    assert set(default) <= widths(builder)
    assert RunConfig.from_json(json.loads(json.dumps(RunConfig(model=model).to_json()))).hidden is None


def test_tensorboard_log_beside_history_and_a_missing_mlflow_named(tmp_path, monkeypatch):
    import sys

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from almanac.train.job import run

    path, history, _ = run(RunConfig(dataset="iris", epochs=2, hidden=(8,), log="tensorboard", out=str(tmp_path),
                                     name="tb"), progress=False)
    (events,) = (path / "tensorboard").iterdir()
    scalars = EventAccumulator(str(path / "tensorboard")).Reload().Scalars("val_accuracy")
    assert [s.step for s in scalars] == [1, 2] and events.name.startswith("events.")
    assert [s.value for s in scalars] == pytest.approx(history.column("val_accuracy"))
    assert (path / "history.csv").exists()
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    with pytest.raises(am.ConfigError, match=r"expected `log` the mlflow package to be installed"):
        run(RunConfig(dataset="iris", epochs=1, log="mlflow", out=str(tmp_path), name="ml"), progress=False)
    assert not (tmp_path / "ml").exists()
