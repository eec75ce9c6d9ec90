"""What the loss really receives: the loss call is traced with the model, so reshaped LM heads, tuple/dict outputs,
custom losses, sequence-first models and tuple/dict inputs are judged on the tensors that reach PyTorch's losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import almanac as am


class TinyLM(nn.Module):
    """nanoGPT-style: tokens (N, T) → logits (N, T, V)."""

    def __init__(self, vocab: int = 128, width: int = 16):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.block = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU())
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.block(self.embed(tokens)))


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def test_language_model_head_class_count_is_read_at_the_loss() -> None:
    torch.manual_seed(0)
    tokens = torch.randint(0, 128, (4, 32))
    report = am.lint.check(TinyLM(), lm_loss, inputs=tokens, target=torch.roll(tokens, -1, 1))
    assert not report.findings, str(report)


def test_language_model_labels_beyond_the_vocabulary_are_still_found() -> None:
    torch.manual_seed(0)
    tokens = torch.randint(0, 64, (4, 32))
    report = am.lint.check(TinyLM(vocab=64), lm_loss, inputs=tokens, target=tokens + 64)
    assert "AL010" in report.codes
    assert "64 output units" in str(report)


def test_check_under_no_grad_still_sees_the_gradient() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        report = am.lint.check(model, nn.CrossEntropyLoss(), inputs=torch.randn(32, 6), target=torch.arange(32) % 3)
    assert not report.findings, str(report)


class SeqFirstLSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(8, 16)  # sequence-first: (T, N, F)
        self.out = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq, _ = self.rnn(x)
        return self.out(seq[-1])


def test_sequence_first_lstm_batch_comes_from_the_output() -> None:
    torch.manual_seed(0)
    report = am.lint.check(SeqFirstLSTM(), nn.CrossEntropyLoss(), inputs=torch.randn(12, 6, 8),
                           target=torch.arange(6) % 4)
    assert not report.findings, str(report)


class TextLengths(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, text: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = torch.arange(text.shape[1])[None, :] < torch.as_tensor(lengths)[:, None]
        pooled = (self.embed(text) * mask[..., None]).sum(1) / torch.as_tensor(lengths)[:, None]
        return self.fc(pooled)


@pytest.mark.parametrize("lengths", [torch.tensor([5, 3, 7, 2]), np.array([5, 3, 7, 2]), [5, 3, 7, 2]],
                         ids=["tensor", "numpy", "list"])
def test_tuple_inputs_are_positional_arguments(lengths: object) -> None:
    torch.manual_seed(0)
    text = torch.randint(0, 50, (4, 7))
    report = am.lint.check(TextLengths(), nn.CrossEntropyLoss(), inputs=(text, lengths),
                           target=torch.tensor([0, 1, 0, 1]))
    assert report.ok, str(report)


def test_dict_inputs_are_keyword_arguments() -> None:
    torch.manual_seed(0)
    text = torch.randint(0, 50, (4, 7))
    report = am.lint.check(TextLengths(), nn.CrossEntropyLoss(),
                           inputs={"text": text, "lengths": torch.tensor([5, 3, 7, 2])},
                           target=torch.tensor([0, 1, 0, 1]))
    assert report.ok, str(report)


def test_a_loss_that_raises_is_a_finding_quoting_it() -> None:
    def broken(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)")

    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    report = am.lint.check(model, broken, inputs=torch.randn(8, 6), target=torch.arange(8) % 3)
    assert not report.ok
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied" in str(report)


def test_torchscript_model_gets_an_info_finding() -> None:
    model = torch.jit.script(nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1)))
    report = am.lint.check(model, nn.CrossEntropyLoss(), inputs=torch.randn(8, 6), target=torch.arange(8) % 3)
    assert "AL000" in report.codes
    assert report.findings[-1].severity == "info" and "not analysed" in report.findings[-1].message
    assert str(report).endswith("1 note")
    assert "the model is a TorchScript module:" in report.findings[-1].message  # not its submodules listed


def test_a_torchscript_submodule_is_named_by_its_path() -> None:
    model = nn.Sequential(nn.Linear(6, 16), torch.jit.script(nn.Sequential(nn.ReLU(), nn.Identity())),
                          nn.Linear(16, 3))
    report = am.lint.check(model, nn.CrossEntropyLoss(), inputs=torch.randn(8, 6), target=torch.arange(8) % 3)
    (note,) = [f for f in report.findings if f.code == "AL000"]
    assert "TorchScript submodule 1:" in note.message and note.where == "1"


class TupleOut(nn.Module):
    def __init__(self, head: nn.Module, as_dict: bool = False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
        self.cls = nn.Linear(16, 3)
        self.head = head
        self.as_dict = as_dict

    def forward(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        h = self.body(x)
        scores = self.head(self.cls(h))
        return {"hidden": h, "logits": scores} if self.as_dict else (scores, h)


@pytest.mark.parametrize("as_dict", [False, True])
def test_tuple_and_dict_outputs_keep_the_head_rules(as_dict: bool) -> None:
    x, y = torch.randn(8, 6), torch.arange(8) % 3
    report = am.lint.check(TupleOut(nn.Softmax(dim=1), as_dict), nn.CrossEntropyLoss(), inputs=x, target=y)
    assert "AL001" in report.codes
    key = "logits" if as_dict else 0
    report = am.lint.check(TupleOut(nn.Softmax(dim=1), as_dict), lambda out, t: F.cross_entropy(out[key], t),
                           inputs=x, target=y)
    assert "AL001" in report.codes
    assert am.lint.check(TupleOut(nn.Identity(), as_dict), lambda out, t: F.cross_entropy(out[key], t),
                         inputs=x, target=y).ok


def _mlp(out: int = 3) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, out))


def test_sigmoid_inside_the_loss_before_bce_with_logits() -> None:
    loss = lambda out, y: F.binary_cross_entropy_with_logits(torch.sigmoid(out), y)  # noqa: E731
    report = am.lint.check(_mlp(1), loss, inputs=torch.randn(8, 6), target=(torch.arange(8) % 2).float()[:, None])
    assert "AL002" in report.codes
    assert "AL002" in am.lint.check(_mlp(1), loss).codes  # static: the loss is traced on sample targets


@pytest.mark.parametrize("fn", [F.nll_loss, lambda p, y: F.kl_div(p, F.one_hot(y, 3).float(), reduction="batchmean")],
                         ids=["nll_loss", "kl_div"])
def test_softmax_inside_the_loss_where_log_probabilities_are_expected(fn) -> None:  # type: ignore[no-untyped-def]
    report = am.lint.check(_mlp(), lambda out, y: fn(F.softmax(out, dim=1), y), inputs=torch.randn(8, 6),
                           target=torch.arange(8) % 3)
    assert "AL003" in report.codes
    assert "log_softmax" in report.findings[0].hint
    ok = am.lint.check(_mlp(), lambda out, y: fn(F.log_softmax(out, dim=1), y), inputs=torch.randn(8, 6),
                       target=torch.arange(8) % 3)
    assert not ok.findings, str(ok)


def test_ignore_drops_rules() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3), nn.Softmax(dim=1))
    assert am.lint.check(model, nn.CrossEntropyLoss(), ignore=["AL006"]).codes == ["AL001"]
    assert am.lint.check(model, nn.CrossEntropyLoss(), ignore="al001").codes == ["AL006"]
    with pytest.raises(am.errors.UnknownNameError):
        am.lint.check(model, ignore=["AL999"])


@pytest.mark.parametrize(("classes", "batch"), [(10, 64), (100, 256)])
def test_imbalance_is_judged_with_confidence_not_on_sampling_noise(classes: int, batch: int) -> None:
    model = nn.Linear(4, classes)
    fired = 0
    for seed in range(40):
        y = torch.randint(0, classes, (batch,), generator=torch.Generator().manual_seed(seed))
        report = am.lint.check(model, nn.CrossEntropyLoss(), inputs=torch.randn(batch, 4), target=y,
                               metrics=["accuracy"])
        fired += "AL011" in report.codes
    assert fired == 0


def test_imbalance_fires_when_the_minority_is_surely_rare_and_says_what_was_measured() -> None:
    y = torch.zeros(1000, dtype=torch.long)
    y[:20] = 1
    report = am.lint.check(nn.Linear(4, 2), nn.CrossEntropyLoss(), inputs=torch.randn(1000, 4), target=y,
                           metrics=["accuracy"])
    assert report.codes == ["AL011"]
    assert "20 of 1000 samples (2.0%; below 3.1% with 95% confidence over the 2 classes)" in report.findings[0].message
    few = y[torch.arange(0, 1000, 25)]  # 40 samples, 1 positive: 2.5% seen, but not surely below 10%
    assert am.lint.check(nn.Linear(4, 2), nn.CrossEntropyLoss(), inputs=torch.randn(40, 4), target=few,
                         metrics=["accuracy"]).codes == []


class Detector(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
        self.cls, self.box = nn.Linear(16, 3), nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.body(x)
        return {"logits": self.cls(h), "boxes": self.box(h)}


def test_structured_targets_go_to_the_loss_as_they_are() -> None:
    def detection(out: dict[str, torch.Tensor], t: dict[str, torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(out["logits"], t["labels"]) + F.smooth_l1_loss(out["boxes"], t["boxes"])

    x = torch.randn(8, 6)
    target = {"labels": torch.arange(8) % 3, "boxes": torch.randn(8, 4)}
    assert not am.lint.check(Detector(), detection, inputs=x, target=target).findings
    wrong = {"labels": torch.arange(8) % 3 + 1, "boxes": torch.randn(8, 4)}  # 1-based labels
    report = am.lint.check(Detector(), detection, inputs=x, target=wrong)
    assert "AL010" in report.codes and "1-based" in str(report)


def test_a_loss_that_runs_its_own_backward_does_not_crash_the_check() -> None:
    def eager(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        value = F.cross_entropy(out, y)
        value.backward()
        return value

    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    assert am.lint.check(model, eager, inputs=torch.randn(8, 6), target=torch.arange(8) % 3).ok


DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


@pytest.mark.parametrize("device", DEVICES)
def test_loss_trace_on_each_device(device: str) -> None:
    torch.manual_seed(0)
    tokens = torch.randint(0, 64, (4, 16), device=device)
    tokens[0, 0] = 63
    model = TinyLM(vocab=64).to(device)
    assert not am.lint.check(model, lm_loss, inputs=tokens, target=tokens).findings
    assert "1-based" in str(am.lint.check(model, lm_loss, inputs=tokens, target=tokens + 1))  # labels in [1, 64]
    mask = (torch.rand(4, 1, 8, 8, device=device) > 0.5).float()
    seg = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1)).to(device)
    report = am.lint.check(seg, nn.BCEWithLogitsLoss(), inputs=torch.randn(4, 3, 8, 8, device=device),
                           target=mask * 255)
    assert "divide them by 255" in str(report)


class SeqFirstAttention(nn.Module):
    """Sequence-first GRU with attention over time: a softmax over dim=0 that is not the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn, self.score, self.out = nn.GRU(5, 12), nn.Linear(12, 1), nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.rnn(x)[0]  # (T, N, H)
        w = torch.softmax(self.score(h), dim=0)  # over time
        return self.out((w * h).sum(0))


def test_softmax_over_time_of_a_sequence_first_model_is_not_over_the_batch() -> None:
    torch.manual_seed(0)
    report = am.lint.check(SeqFirstAttention(), nn.CrossEntropyLoss(), inputs=torch.randn(9, 4, 5),
                           target=torch.arange(4) % 3)
    assert not report.findings, str(report)


class ListOfImages(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        assert isinstance(xs, list)
        return torch.stack([self.fc(x) for x in xs])


class NoOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> None:
        self.fc(x)


@pytest.mark.parametrize(("model", "inputs", "target"), [
    (ListOfImages(), [torch.randn(4) for _ in range(6)], torch.arange(6) % 3),
    (NoOutput(), torch.randn(6, 4), torch.arange(6) % 3),
    (nn.Linear(4, 3), torch.randn(6, 4), torch.full((6,), float("nan"))),
    (nn.Linear(4, 3), torch.randn(0, 4), torch.zeros(0, dtype=torch.long)),
], ids=["list-inputs", "no-output", "nan-target", "empty-batch"])
def test_odd_but_valid_setups_get_a_report(model: nn.Module, inputs: object, target: torch.Tensor) -> None:
    report = am.lint.check(model, nn.CrossEntropyLoss(), inputs=inputs, target=target, metrics=["accuracy"])
    assert isinstance(report, am.lint.Report)


def test_a_rule_that_fails_becomes_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: object) -> list[object]:
        raise ValueError("cannot read this")

    monkeypatch.setattr(am.lint, "ALL_RULES", (broken,))
    report = am.lint.check(nn.Linear(4, 3), nn.CrossEntropyLoss(), inputs=torch.randn(6, 4), target=torch.arange(6) % 3)
    assert report.ok and report.codes == ["AL000"]
    assert "rule broken was not applied: ValueError: cannot read this" in str(report)
