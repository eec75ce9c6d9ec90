import csv

import pytest
import torch

import almanac as am
from almanac.train import checkpoint
from almanac.train.history import read_csv


def _problem(n=96):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def _model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Dropout(0.2), torch.nn.ReLU(), torch.nn.Linear(16, 2))


def test_fit_any_module_returns_the_history():
    x, y = _problem()
    h = am.train.fit(_model(), am.losses.get("cross_entropy"), (x, y), (x, y), metrics=["accuracy"],
                     metric_params={"task": "multiclass", "num_classes": 2}, output="softmax", epochs=8, lr=1e-2)
    assert h.column("epoch") == list(range(1, 9))
    assert h.columns[:4] == ["epoch", "train_loss", "val_loss", "val_accuracy"]
    assert h.last["train_loss"] < h[0]["train_loss"] and h.last["val_accuracy"] > 0.8


def test_evaluate_and_predict_agree():
    x, y = _problem()
    model = _model()
    scores = am.train.evaluate(model, torch.nn.CrossEntropyLoss(), (x, y), metrics=["accuracy"],
                               metric_params={"task": "multiclass", "num_classes": 2}, output="softmax")
    preds, target = am.train.predict(model, (x, y), output="softmax")
    assert scores["accuracy"] == pytest.approx(float((preds.argmax(1) == target).float().mean()))
    assert model.training  # evaluate restores the mode it found
    with torch.no_grad():
        expected = float(torch.nn.functional.cross_entropy(model.eval()(x), y))
    assert scores["loss"] == pytest.approx(expected, rel=1e-5)


def test_run_dir_files_and_resume_equals_an_uninterrupted_run(tmp_path):
    x, y = _problem()
    kwargs = dict(epochs=5, batch_size=16, lr=1e-2, seed=7, output="identity")
    straight = _model()
    am.train.fit(straight, torch.nn.CrossEntropyLoss(), (x, y), (x, y), run_dir=tmp_path / "a", **kwargs)

    first = _model()
    am.train.fit(first, torch.nn.CrossEntropyLoss(), (x, y), (x, y), run_dir=tmp_path / "b", **{**kwargs, "epochs": 2})
    state = checkpoint.load(tmp_path / "b" / "checkpoint.pt")
    assert state["epoch"] == 2 and set(state) >= {"model", "optimizer", "rng", "history"}
    # a crash after the history row of epoch 3 but before its checkpoint: the resume must drop that row
    with (tmp_path / "b" / "history.csv").open("a") as f:
        f.write("3,0.1,0.1,0.001,0.0\n4,0.2")
    resumed = _model(seed=99)  # weights come from the checkpoint, not from this init
    h = am.train.fit(resumed, torch.nn.CrossEntropyLoss(), (x, y), (x, y), run_dir=tmp_path / "b", resume=True,
                     **kwargs)
    assert h.column("epoch") == [1, 2, 3, 4, 5]
    assert read_csv(tmp_path / "b" / "history.csv").column("epoch") == [1, 2, 3, 4, 5]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)  # same shuffles, same dropout masks, same optimizer state
    a_rows = list(csv.reader((tmp_path / "a" / "history.csv").open()))
    b_rows = list(csv.reader((tmp_path / "b" / "history.csv").open()))
    assert [r[:3] for r in a_rows] == [r[:3] for r in b_rows]  # identical losses per epoch


def test_an_existing_run_is_not_overwritten(tmp_path):
    x, y = _problem(32)
    am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), epochs=1, run_dir=tmp_path)
    with pytest.raises(am.ConfigError, match="resume it"):
        am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), epochs=1, run_dir=tmp_path)


def test_bad_arguments():
    x, y = _problem(32)
    with pytest.raises(am.ConfigError, match="epochs"):
        am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), epochs=0)
    with pytest.raises(am.ShapeError, match="same length"):
        am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y[:5]))
    with pytest.raises(am.ConfigError, match="val_data"):
        am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), metrics=["accuracy"])


def test_a_diverging_run_stops_with_a_clear_error_and_keeps_the_last_checkpoint(tmp_path):
    x, y = _problem(32)
    calls = []

    def explodes_in_epoch_2(out, target):
        calls.append(1)
        scale = float("inf") if len(calls) > 2 else 1.0
        return torch.nn.functional.cross_entropy(out, target) * scale

    with pytest.raises(am.DomainError, match=r"expected `training loss` to stay finite \(epoch 2\)"):
        am.train.fit(_model(), explodes_in_epoch_2, (x, y), epochs=3, batch_size=16, run_dir=tmp_path)
    assert checkpoint.load(tmp_path / "checkpoint.pt")["epoch"] == 1
    with pytest.raises(am.ConfigError, match="run_dir"):
        am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), resume=True)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("schedule", "precision"), [("onecycle", "32"), ("cosine", "bf16"), ("none", "fp16")])
def test_a_crashed_run_resumes_into_the_uninterrupted_one_with_schedule_and_precision(tmp_path, schedule, precision,
                                                                                      device):
    x, y = _problem()
    kwargs = dict(epochs=4, batch_size=16, lr=1e-2, seed=3, schedule=schedule, precision=precision, device=device)
    straight = _model()
    h = am.train.fit(straight, torch.nn.CrossEntropyLoss(), (x, y), (x, y), run_dir=tmp_path / "a", **kwargs)
    assert all(torch.isfinite(torch.tensor(h.column("train_loss"))))
    lrs = h.column("lr")
    if schedule == "cosine":
        assert lrs == sorted(lrs, reverse=True) and lrs[-1] < 1e-6  # annealed to zero over all batches
    if schedule == "onecycle":
        assert max(lrs) > lrs[-1] and lrs[-1] < 1e-4

    def crash(row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt  # after epoch 2's checkpoint, as a kill would
    with pytest.raises(KeyboardInterrupt):
        am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), (x, y), run_dir=tmp_path / "b",
                     on_epoch_end=crash, **kwargs)
    resumed = _model(seed=5)
    am.train.fit(resumed, torch.nn.CrossEntropyLoss(), (x, y), (x, y), run_dir=tmp_path / "b", resume=True,
                 **kwargs)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a.cpu(), b.cpu())  # the schedule and the grad scaler resume where they were


def test_best_epoch_is_kept_beside_the_last_and_early_stop(tmp_path):
    x, y = _problem()
    h = am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), (x[:40], y[:40]), metrics=["log_loss"],
                     metric_params={"task": "multiclass", "num_classes": 2}, output="softmax", epochs=6, lr=0.3,
                     run_dir=tmp_path / "r")
    values = h.column("val_log_loss")  # lower is better (its spec says so)
    best = checkpoint.load(tmp_path / "r" / "best.pt")
    assert best["epoch"] == values.index(min(values)) + 1 and best["value"] == min(values)
    assert checkpoint.load(tmp_path / "r" / "checkpoint.pt")["epoch"] == 6
    # a monitor that never improves: the best is epoch 1, so early_stop=2 ends the run after epoch 3
    h = am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), (x, y), epochs=10, monitor="lr", maximize=True,
                     early_stop=2)
    assert h.column("epoch") == [1, 2, 3]
    assert am.train.loop.best_epoch([{"epoch": 1, "v": float("nan")}, {"epoch": 2, "v": 3.0}], "v", False) == 2


@pytest.mark.parametrize(("state", "message"), [
    ({"epoch": -1}, "epoch -1"),
    ({"model": None, "history": [{"epoch": 1}]}, "no model"),
    ({"rng": None}, "no rng"),
    ({"history": "garbage"}, "a history that does not list epochs 1..2"),
    ({"history": [{"epoch": 1}, {"epoch": 1}]}, "a history that does not list"),
])
def test_a_tampered_checkpoint_is_refused_and_kept(tmp_path, state, message):
    x, y = _problem()
    am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), (x, y), epochs=2, run_dir=tmp_path)
    saved = checkpoint.load(tmp_path / "checkpoint.pt")
    tampered = {**saved, **state}
    for key, value in state.items():
        if value is None:
            del tampered[key]
    checkpoint.save(tmp_path / "checkpoint.pt", tampered)
    before = (tmp_path / "checkpoint.pt").read_bytes(), (tmp_path / "history.csv").read_bytes()
    with pytest.raises(am.ConfigError, match=message):
        am.train.fit(_model(), torch.nn.CrossEntropyLoss(), (x, y), (x, y), epochs=3, run_dir=tmp_path, resume=True)
    assert ((tmp_path / "checkpoint.pt").read_bytes(), (tmp_path / "history.csv").read_bytes()) == before
