"""The lab's training wrapper (almanac.lab.supervised): a run that blows up is a result, not a failed sweep."""

import math

import pytest
import torch

from almanac.errors import DomainError
from almanac.lab import findings, supervised
from almanac.lab.store import Run
from almanac.lab.summary import Summary


def _moons_job():
    return supervised._job(dataset="moons", hidden=(8,), activation="relu", loss="binary_cross_entropy",
                           metrics=("accuracy",), epochs=5, batch_size=32, lr=0.05, seed=0)


def _nan_after(loss, calls: int):
    seen = [0]

    def wrapped(out, y):
        seen[0] += torch.is_grad_enabled()  # training batches only, not the validation passes
        value = loss(out, y)
        return value * math.nan if seen[0] > calls else value

    return wrapped


def test_a_run_whose_loss_turns_non_finite_keeps_its_finite_epochs_and_says_when():
    job = _moons_job()
    batches = math.ceil(len(job.train_set[0]) / 32)
    result = supervised._train(job.model, _nan_after(job.loss, 2 * batches), job.train_set, job.val_set,
                               metrics=job.metrics, output=job.output, epochs=5, seed=0, batch_size=32)
    assert result["final"]["diverged"] == 3.0  # epochs 1 and 2 finished, epoch 3 blew up
    accuracy = result["curves"]["accuracy"]
    assert len(accuracy) == 5 and all(math.isfinite(a) for a in accuracy[:2]) and all(map(math.isnan, accuracy[2:]))
    assert result["final"]["accuracy"] == accuracy[1]


def test_a_run_that_finishes_reports_no_divergence_and_bad_input_still_raises():
    job = _moons_job()
    result = supervised._train(job.model, job.loss, job.train_set, job.val_set, metrics=job.metrics,
                               output=job.output, epochs=2, seed=0, batch_size=32)
    assert result["final"]["diverged"] == 0.0 and len(result["curves"]["accuracy"]) == 2
    with pytest.raises(DomainError):  # blown up in the first epoch: nothing to keep
        supervised._train(job.model, _nan_after(job.loss, 0), job.train_set, job.val_set, metrics=job.metrics,
                          output=job.output, epochs=2, seed=0, batch_size=32)


def _run(seed: int, diverged: float) -> Run:
    return Run(f"k{seed}", "fake", {"loss": "mse"}, seed, False, {"final": {"mae": 1.0 + seed, "diverged": diverged}},
               1.0)


def test_the_finding_names_the_configurations_that_diverged():
    runs = [_run(0, 0.0), _run(1, 3.0), _run(2, 0.0)]
    note = findings._seeds_note(Summary.from_runs(runs))
    assert "diverged (non-finite) for loss mse in 1 of 3 seeds (epoch 3)" in note
    assert "diverged" not in findings._seeds_note(Summary.from_runs([runs[0], runs[2]]))
