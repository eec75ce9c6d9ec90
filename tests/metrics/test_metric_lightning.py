"""Metrics in training frameworks: an almanac metric is an ``nn.Module`` that moves with its model, and Lightning's
``self.log(name, metric)`` logs its epoch value — combined over DDP ranks, reset every epoch — as it does for a
torchmetrics metric. One process and two gloo processes (forked, Lightning told the ranks by the environment)."""

from __future__ import annotations

import os
import pickle
import socket
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from lightning.pytorch.loggers.logger import Logger
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import almanac as am

N, C, BATCH, EPOCHS = 64, 3, 8, 2


def _data() -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, 4, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()  # 3 classes a linear model half learns
    return TensorDataset(x, y)


class _Model(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Linear(4, C)
        self.val_f1 = am.metrics.F1(task="multiclass", num_classes=C, average="macro")
        self.val_auroc = am.metrics.AUROC(task="multiclass", num_classes=C)
        self.train_acc = am.metrics.Accuracy(task="multiclass", num_classes=C)
        self.val_more = am.metrics.collection(["accuracy", "recall"], task="multiclass", num_classes=C,
                                              average="macro", prefix="val_")
        self.expected: list[dict[str, float]] = []

    def training_step(self, batch, _):
        x, y = batch
        logits = self.net(x)
        self.train_acc(logits, y)  # forward: update, and the batch value for on_step
        self.log("train_acc", self.train_acc, on_step=True, on_epoch=True)
        return nn.functional.cross_entropy(logits, y)

    def on_validation_epoch_start(self) -> None:
        # the reference: the same metrics on every sample at once, with this epoch's weights
        assert self.val_f1.state_dict() == {}, "not reset since the last epoch"
        x, y = _data().tensors
        with torch.no_grad():
            probs = self.net(x.to(self.device)).softmax(1).cpu()
        self.expected.append({"val_f1": float(am.metrics.f1(probs, y, num_classes=C, average="macro")),
                              "val_auroc": float(am.metrics.auroc(probs, y, num_classes=C)),
                              "val_accuracy": float(am.metrics.accuracy(probs, y, num_classes=C, average="macro")),
                              "val_recall": float(am.metrics.recall(probs, y, num_classes=C, average="macro"))})

    def validation_step(self, batch, _):
        x, y = batch
        probs = self.net(x).softmax(1)
        self.val_f1.update(probs, y)
        self.val_auroc.update(probs, y)
        self.log("val_f1", self.val_f1)
        self.log("val_auroc", self.val_auroc)
        self.val_more.update(probs, y)
        self.log_dict(self.val_more)  # a collection logs each metric under its prefixed name

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


class _Record(Logger):
    """Keeps every logged dict (the epoch values Lightning logs)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []

    @property
    def name(self) -> str:
        return "record"

    @property
    def version(self) -> int:
        return 0

    def log_hyperparams(self, *args, **kwargs) -> None:
        pass

    def log_metrics(self, metrics, step=None) -> None:
        self.rows.append(dict(metrics))


def _fit(**trainer_kw) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    model, record = _Model(), _Record()
    trainer = pl.Trainer(max_epochs=EPOCHS, accelerator="cpu", logger=record, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                         log_every_n_steps=1, **trainer_kw)
    loader = DataLoader(_data(), batch_size=BATCH)
    trainer.fit(model, loader, loader)
    epochs = [{k: r[k] for k in ("val_f1", "val_auroc", "val_accuracy", "val_recall")} for r in record.rows
              if "val_f1" in r]
    return epochs, model.expected


def _check(epochs, expected) -> None:
    assert len(epochs) == EPOCHS and len(expected) == EPOCHS
    for got, want in zip(epochs, expected):
        assert got == pytest.approx(want, rel=1e-6)
    assert expected[0] != expected[1]  # the model learnt: a metric not reset would log a mix of both epochs


@pytest.mark.slow
def test_lightning_logs_the_epoch_value_in_one_process():
    epochs, expected = _fit(devices=1)
    _check(epochs, expected)


def _worker(rank: int, world: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), NODE_RANK="0",
                      RANK=str(rank), LOCAL_RANK=str(rank))  # launched externally: Lightning spawns nothing
    epochs, expected = _fit(devices=world, strategy=pl.strategies.DDPStrategy(process_group_backend="gloo"))
    Path(f"{out}.{rank}").write_bytes(pickle.dumps((epochs, expected)))


@pytest.mark.slow
def test_lightning_ddp_logs_the_value_over_every_rank(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = str(tmp_path / "epochs")
    mp.start_processes(_worker, args=(2, port, out), nprocs=2, join=True, start_method="fork")
    for rank in range(2):
        epochs, expected = pickle.loads(Path(f"{out}.{rank}").read_bytes())
        _check(epochs, expected)  # each rank logs the value of all N samples (its half is N / 2)


# -- nn.Module behaviour ----------------------------------------------------------------------------------------------
def test_to_dtype_changes_floating_states_only():
    g = torch.Generator().manual_seed(0)
    p, t = torch.randint(0, 3, (5000,), generator=g), torch.randint(0, 3, (5000,), generator=g)
    m = am.metrics.F1(num_classes=3, average="macro")
    m.update(p, t)
    m.to(torch.bfloat16)
    assert m.state_dict()["confmat"].dtype == torch.int64 and int(m.state_dict()["confmat"].sum()) == 5000
    assert float(m.compute()) == pytest.approx(float(am.metrics.f1(p, t, num_classes=3, average="macro")))
    m.to("cpu", torch.float64)
    assert m.device == torch.device("cpu")
    r = am.metrics.MSE().to(torch.float32)  # before any data: states declared later follow
    r.update(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 2.0]))
    assert r.state_dict()["sum_sq_error" if "sum_sq_error" in r.state_dict() else "sq_error"].dtype == torch.float32
    assert r.state_dict()["count"].dtype == torch.int64


def test_forward_returns_the_batch_value_and_accumulates():
    m = am.metrics.Accuracy()
    assert float(m(torch.tensor([1, 0, 1, 1]), torch.tensor([1, 1, 1, 1]))) == 0.75
    assert float(m(torch.tensor([0, 0]), torch.tensor([0, 0]))) == 1.0
    assert float(m.compute()) == pytest.approx(5 / 6)
    x = torch.randn(5, requires_grad=True)
    assert am.metrics.MSE()(x, torch.zeros(5)).requires_grad  # differentiable metrics keep the graph


def test_metric_is_in_its_models_state_dict_and_moves_with_it():
    model = nn.Sequential(nn.Linear(2, 2))
    model.f1 = am.metrics.F1(num_classes=3, average="macro")
    model.f1.update([0, 1, 2, 2], [0, 1, 1, 2])
    state = model.state_dict()
    assert "f1.confmat" in state
    fresh = nn.Sequential(nn.Linear(2, 2))
    fresh.f1 = am.metrics.F1(num_classes=3, average="macro")
    fresh.load_state_dict(state)
    assert fresh.f1.compute() == model.f1.compute()
    wrong = dict(state, **{"f1.confmat": torch.ones(2, 2, dtype=torch.long)})
    with pytest.raises(RuntimeError, match="confmat"):
        fresh.load_state_dict(wrong)
    model.double()
    assert model.f1.state_dict()["confmat"].dtype == torch.int64


def test_collection_prefix_postfix_and_class_names():
    c = am.metrics.collection(["f1", "accuracy"], num_classes=2, average="none", class_names=["cat", "dog"],
                              prefix="val_", postfix="_epoch")
    values = c(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]))
    assert set(values) == {"val_f1_cat_epoch", "val_f1_dog_epoch", "val_accuracy_cat_epoch", "val_accuracy_dog_epoch"}
    assert [k for k, _ in c.items()] == ["val_f1_epoch", "val_accuracy_epoch"]
    assert float(c.compute()["val_f1_cat_epoch"]) == pytest.approx(2 / 3)
    model = nn.Module()
    model.metrics = c
    assert {"metrics.f1.confmat", "metrics.accuracy.confmat"} <= set(model.state_dict())


def test_tracker_keeps_each_epoch_and_names_the_best():
    tracker = am.metrics.MetricTracker(am.metrics.collection(["f1", "log_loss"], prefix="val_"))
    target = [1, 0, 1, 1]
    epochs = ([0.6, 0.4, 0.4, 0.9], [0.9, 0.1, 0.8, 0.7], [0.8, 0.6, 0.9, 0.9])
    for probs in epochs:
        tracker.update(probs, target)
        values = tracker.end_epoch()
        assert values["val_f1"] == pytest.approx(am.metrics.f1(probs, target))
        assert tracker.metric["f1"].state_dict() == {}  # reset for the next epoch
    losses = [am.metrics.log_loss(p, target) for p in epochs]
    best = tracker.best()
    assert best["val_f1"] == (1, 1.0)  # the first epoch with the highest F1
    assert best["val_log_loss"] == (int(np.argmin(losses)), pytest.approx(min(losses)))  # lower is better
    assert len(tracker.history) == 3


def test_streaming_fast_path_counts_and_validates_like_the_general_path():
    g = torch.Generator().manual_seed(4)
    m = am.metrics.F1(task="multiclass", num_classes=10, average="macro")
    batches = [(torch.randint(0, 10, (64,), generator=g), torch.randint(0, 10, (64,), generator=g)) for _ in range(3)]
    logits = torch.randn(64, 10, generator=g)
    for p, t in batches:
        m.update(p, t)
    assert float(m(logits, batches[0][1])) == pytest.approx(
        float(am.metrics.f1(logits.argmax(1), batches[0][1], num_classes=10, average="macro")))
    preds = torch.cat([p for p, _ in batches] + [logits.argmax(1)])
    target = torch.cat([t for _, t in batches] + [batches[0][1]])
    assert float(m.compute()) == pytest.approx(float(am.metrics.f1(preds, target, num_classes=10, average="macro")))
    before = m.state_dict()["confmat"].clone()
    for bad_preds, bad_target in ((torch.tensor([12, 1]), torch.tensor([0, 1])),  # 0·10 + 12 would alias (1, 2)
                                  (torch.tensor([-1, 1]), torch.tensor([1, 1])),  # 1·10 − 1 would alias (0, 9)
                                  (torch.tensor([1, 1]), torch.tensor([-1, 1])),
                                  (torch.tensor([1, 1]), torch.tensor([10, 1]))):
        with pytest.raises(am.errors.TargetError):
            m.update(bad_preds, bad_target)
        with pytest.raises(am.errors.TargetError):
            m(bad_preds, bad_target)
    with pytest.raises(am.errors.DomainError):
        m(torch.full((2, 10), float("nan")), torch.tensor([0, 1]))
    assert torch.equal(m.state_dict()["confmat"], before)
    copy = pickle.loads(pickle.dumps(m)).to(torch.float64)  # a copy keeps counting on its own states
    copy.update(*batches[0])
    assert int(copy.state_dict()["confmat"].sum()) == int(before.sum()) + 64
    assert torch.equal(m.state_dict()["confmat"], before)
