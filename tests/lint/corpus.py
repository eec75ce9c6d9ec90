"""Real cases for the checker: faulty setups re-created in PyTorch from public bug reports, and correct setups of
well-known architectures and training recipes.

Each faulty case names its source: most are Stack Overflow questions from the deepmufl bug benchmark
(Ghanbari et al., ASE 2023, https://github.com/ali-ghanbari/deepmufl-ase-2023, folder ``Dataset/all-bugs/<id>``:
Keras models, re-created here with the same layers, activations and loss in PyTorch at a smaller size), the others
PyTorch forum threads and blog posts. One report with several faults gives one case per rule. A case is a
:class:`~tests.lint.setups.Setup` (the same format as ``setups.py``) kept in :data:`CORPUS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .setups import Setup

CORPUS: list[Setup] = []


def so(question: int) -> str:
    return f"https://stackoverflow.com/questions/{question}"


def case(rule: str, source: str, name: str, build: Callable[[], dict[str, Any]], faulty: bool = True) -> None:
    CORPUS.append(Setup(rule, name, faulty, build, source))


# -- data and layers --------------------------------------------------------------------------------------------
def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def X(n: int = 16, d: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=_g(seed))


def labels(n: int = 16, k: int = 3) -> torch.Tensor:
    return torch.arange(n) % k


def binary(n: int = 16) -> torch.Tensor:
    return (torch.arange(n) % 2).float()[:, None]


def values(n: int = 16, low: float = -3.0, high: float = 5.0, seed: int = 1) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, 1, generator=_g(seed))


def images(n: int = 4, c: int = 1, size: int = 12, seed: int = 2) -> torch.Tensor:
    return torch.randn(n, c, size, size, generator=_g(seed))


def mlp(widths: list[int], act: type[nn.Module] | None = nn.ReLU, *tail: nn.Module) -> nn.Sequential:
    """Linear layers of the given widths with ``act`` between them (None: no activation, a Keras 'linear')."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(widths)):
        layers.append(nn.Linear(a, b))
        if act is not None and i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers, *tail)


def convnet(channels: list[int], head: list[int], act: type[nn.Module] | None = nn.ReLU, dims: int = 2,
            *tail: nn.Module) -> nn.Sequential:
    """Keras ``Conv → ... → Flatten → Dense ...``: convolutions (``act`` after each, None for none), a global
    pooling, then dense layers."""
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
    pool = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}[dims]
    layers: list[nn.Module] = []
    for a, b in pairwise(channels):
        layers.append(conv(a, b, 3, padding=1))
        if act is not None:
            layers.append(act())
    layers += [pool(2), nn.Flatten(), *mlp([channels[-1] * 2 ** dims, *head], act)]
    return nn.Sequential(*layers, *tail)


# == faulty: softmax over a single output unit (AL004) =============================================================
_ONE_UNIT_SOFTMAX_BCE = [31880720, 47241622, 51581521, 52983831, 57397440, 65669308, 66087653, 66407123,
                         70148149, 62440336, 58055105, 58392266]
for _q in _ONE_UNIT_SOFTMAX_BCE:
    case("AL004", so(_q), f"so{_q}_softmax_one_unit_bce",
         lambda q=_q: dict(model=mlp([8, 16 + q % 7, 1], nn.ReLU, nn.Softmax(dim=1)), loss=nn.BCELoss(),
                           inputs=X(seed=q % 97), target=binary()))
for _q in (56218256, 68751439):  # categorical cross-entropy on one softmax unit
    case("AL004", so(_q), f"so{_q}_softmax_one_unit_cross_entropy",
         lambda: dict(model=mlp([8, 16, 1], nn.ReLU, nn.Softmax(dim=1)), loss=nn.CrossEntropyLoss()))
for _q in (33969059, 34311586, 54738769, 61997645, 68938619):  # regression with MSE through a one-unit softmax
    case("AL004", so(_q), f"so{_q}_softmax_one_unit_mse",
         lambda: dict(model=mlp([8, 12, 1], nn.Sigmoid, nn.Softmax(dim=1)), loss=nn.MSELoss(), inputs=X(),
                      target=values(low=0.0, high=1.0)))
case("AL004", so(51749207), "so51749207_conv1d_then_softmax_one_unit",
     lambda: dict(model=convnet([1, 6], [10, 1], nn.ReLU, 1, nn.Softmax(dim=1)), loss=nn.BCELoss(),
                  inputs=torch.randn(8, 1, 20, generator=_g(3)), target=binary(8)))
case("AL004", so(68321264), "so68321264_cnn_softmax_one_unit",
     lambda: dict(model=convnet([1, 4, 4], [8, 1], None, 2, nn.Softmax(dim=1)), loss=nn.BCELoss()))

# == faulty: stacked linear layers without an activation (AL006) ===================================================
for _q, _widths in ((31880720, [8, 32, 12, 1]), (33969059, [8, 8, 2, 1]), (34673164, [14, 16, 16, 2]),
                    (44758894, [7, 16, 1]), (48486598, [1, 1, 5, 1]), (56888491, [6, 15, 15, 15, 4])):
    case("AL006", so(_q), f"so{_q}_dense_layers_without_activation",
         lambda w=_widths: dict(model=mlp(w, None), loss=nn.MSELoss()))
for _q, _dims in ((54064299, 2), (54282951, 2), (60874661, 2), (62068109, 2), (66235657, 2), (57943425, 2),
                  (61763616, 1), (45378493, 1), (62957334, 3), (64237179, 3)):
    case("AL006", so(_q), f"so{_q}_conv_layers_without_activation",
         lambda d=_dims: dict(model=convnet([1, 4, 6], [8, 1], None, d), loss=nn.BCEWithLogitsLoss()))

# == faulty: accuracy as the metric of a regression (AL012) ========================================================
for _q, _tail in ((44758894, []), (48486598, []), (48976413, [nn.Sigmoid()]), (60801900, [nn.ReLU()]),
                  (48221692, [nn.Sigmoid()]), (33969059, []), (61997645, [])):
    case("AL012", so(_q), f"so{_q}_accuracy_on_regression",
         lambda t=_tail: dict(model=mlp([8, 12, 1], nn.ReLU, *t), loss=nn.MSELoss(), inputs=X(),
                              target=values(low=0.05, high=0.95), metrics=["accuracy"]))
case("AL012", so(68938619), "so68938619_lstm_regression_with_accuracy",
     lambda: dict(model=_LastStep(nn.LSTM(3, 8, batch_first=True), nn.Linear(8, 1)), loss=nn.MSELoss(),
                  inputs=torch.randn(6, 5, 3, generator=_g(4)), target=values(6, 0.1, 0.9), metrics=["accuracy"]))


class _LastStep(nn.Module):
    """An RNN, then a linear layer on the last time step."""

    def __init__(self, rnn: nn.RNNBase, head: nn.Module):
        super().__init__()
        self.rnn, self.head = rnn, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1] if self.rnn.batch_first else out[-1])


# == faulty: sigmoid or ReLU outputs into a multi-class cross-entropy (AL020) ========================================
for _q, _k in ((41823068, 5), (42472447, 6), (50914860, 3), (51930566, 3), (55198221, 5), (55328966, 10),
               (59278771, 3), (61886777, 3), (41999686, 4)):
    case("AL020", so(_q), f"so{_q}_sigmoid_outputs_into_cross_entropy",
         lambda k=_k: dict(model=mlp([8, 16, k], nn.ReLU, nn.Sigmoid()), loss=nn.CrossEntropyLoss(), inputs=X(),
                           target=labels(16, k)))
for _q in (64413907, 53700537):
    case("AL020", so(_q), f"so{_q}_relu_outputs_into_cross_entropy",
         lambda: dict(model=mlp([8, 16, 3], nn.ReLU, nn.ReLU()), loss=nn.CrossEntropyLoss()))

# == faulty: raw scores into a loss on probabilities (AL003) =======================================================
for _q, _tail in ((64387251, []), (64395424, []), (57407973, []), (51185079, [nn.ReLU()]),
                  (58572274, [nn.ReLU()])):
    case("AL003", so(_q), f"so{_q}_unbounded_outputs_into_bce",
         lambda t=_tail: dict(model=mlp([8, 16, 1], nn.ReLU, *t), loss=nn.BCELoss()))
case("AL003", so(68101077), "so68101077_raw_scores_into_nll",
     lambda: dict(model=mlp([8, 32, 10]), loss=nn.NLLLoss(), inputs=X(), target=labels(16, 10)))
case("AL003", so(54282951), "so54282951_dense_output_into_bce",
     lambda: dict(model=convnet([3, 4], [8, 1], nn.ReLU), loss=nn.BCELoss()))
case("AL003", "https://blog.youkuaiyun.com/gitblog_07070/article/details/148913721", "birefnet_bce_on_raw_map",
     lambda: dict(model=nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1)),
                  loss=nn.BCELoss(), inputs=images(c=3), target=(images(c=1) > 0).float()))

# == faulty: a categorical loss on one output unit, or targets it cannot use (AL010) ==============================
for _q in (66602662, 68773774, 70650848, 70589997):
    case("AL010", so(_q), f"so{_q}_cross_entropy_on_one_unit",
         lambda: dict(model=mlp([8, 16, 1], nn.ReLU, nn.Sigmoid()), loss=nn.CrossEntropyLoss(), inputs=X(),
                      target=labels(16, 2)))
case("AL010", "https://taourl.com/read-2964347.html", "target_minus_one_out_of_bounds",
     lambda: dict(model=mlp([8, 16, 5]), loss=nn.CrossEntropyLoss(), inputs=X(), target=labels(16, 5) - 1))
case("AL010", "https://cloud.tencent.com.cn/developer/article/2567817", "class_index_equal_to_class_count",
     lambda: dict(model=mlp([8, 16, 3]), loss=F.cross_entropy, inputs=X(), target=labels(16, 4)))
case("AL010", "https://cloud.tencent.com.cn/developer/article/2567817", "segmentation_target_with_channel_dim",
     lambda: dict(model=nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1)),
                  loss=nn.CrossEntropyLoss(), inputs=images(c=3),
                  target=torch.randint(0, 4, (4, 12, 12, 1), generator=_g(5))))
case("AL010", "https://discuss.pytorch.org/t/how-exactly-should-i-understand-the-cross-entropy-loss-function/61183",
     "cbow_one_hot_long_target",
     lambda: dict(model=nn.Sequential(nn.EmbeddingBag(40, 8), nn.Linear(8, 40)), loss=nn.CrossEntropyLoss(),
                  inputs=torch.randint(0, 40, (6, 4), generator=_g(6)),
                  target=F.one_hot(torch.arange(6) % 40, 40)))

# == faulty: double softmax, deep saturating stacks, label regression, no gradient (AL001, AL019, AL008, AL013) ====
case("AL001", "https://discuss.pytorch.org/t/cross-entropy-loss-is-not-decreasing/43814",
     "forum_softmax_into_cross_entropy",
     lambda: dict(model=mlp([8, 32, 10], nn.ReLU, nn.Softmax(dim=1)), loss=nn.CrossEntropyLoss(), inputs=X(),
                  target=labels(16, 10)))
case("AL001", so(56888491), "so56888491_softmax_into_sparse_cross_entropy",
     lambda: dict(model=mlp([6, 15, 4], nn.ReLU, nn.Softmax(dim=1)), loss=nn.CrossEntropyLoss()))
for _q, _act, _depth in ((57407973, nn.Sigmoid, 5), (61234347, nn.Tanh, 7), (65777704, nn.Sigmoid, 5)):
    case("AL019", so(_q), f"so{_q}_deep_{_act.__name__.lower()}_stack",
         lambda a=_act, n=_depth: dict(model=mlp([8, *[12] * n, 3], a), loss=nn.CrossEntropyLoss()))
case("AL008", so(59078187), "so59078187_mse_on_class_labels",
     lambda: dict(model=mlp([8, 32, 10], nn.ReLU, nn.Softmax(dim=1)), loss=nn.MSELoss(), inputs=X(),
                  target=labels(16, 10).float()))
case("AL013", "https://php.bkmy88.com/faq/1835025.html", "argmax_predictions_into_the_loss",
     lambda: dict(model=mlp([8, 16, 3]), loss=lambda out, y: F.mse_loss(torch.softmax(out, 1).argmax(1).float(), y),
                  inputs=X(), target=labels(16, 3).float()))
case("AL003", so(57407973), "so57407973_raw_output_into_bce",
     lambda: dict(model=mlp([8, 12, 12, 1], nn.Sigmoid), loss=nn.BCELoss()))
case("AL012", so(48486598), "so48486598_accuracy_on_linear_regression",
     lambda: dict(model=mlp([1, 5, 1], None), loss=nn.L1Loss(), inputs=torch.linspace(0, 10, 16)[:, None],
                  target=torch.sin(torch.linspace(0, 10, 16))[:, None], metrics=["accuracy"]))


# == correct real-world setups ====================================================================================
def ok(source: str, name: str, build: Callable[[], dict[str, Any]]) -> None:
    case("", source, name, build, faulty=False)


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.skip = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                     if stride != 1 or c_in != c_out else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.skip(x))


class ResNet(nn.Module):
    def __init__(self, classes: int = 10, width: int = 8, c: int = 3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.layers = nn.Sequential(BasicBlock(width, width), BasicBlock(width, 2 * width, 2))
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1))


class Block(nn.Module):
    """A pre-norm transformer block with causal self-attention (nanoGPT style)."""

    def __init__(self, d: int = 16, heads: int = 2, causal: bool = True):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.heads, self.causal = heads, causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        x = x + self.proj(y.transpose(1, 2).reshape(n, t, d))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab: int = 64, d: int = 16, block: int = 12):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(block, d)
        self.blocks = nn.Sequential(Block(d), Block(d))
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.ln(self.blocks(x)))


def gpt_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1), ignore_index=-1)


class Tagger(nn.Module):
    def __init__(self, vocab: int = 50, tags: int = 7, batch_first: bool = True):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, 12, batch_first=batch_first, bidirectional=True)
        self.out = nn.Linear(24, tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.lstm(self.embed(x))[0])


class UNet(nn.Module):
    def __init__(self, c: int = 3, out: int = 1, w: int = 8):
        super().__init__()

        def double(a: int, b: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(),
                                 nn.Conv2d(b, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU())

        self.down1, self.down2 = double(c, w), double(w, 2 * w)
        self.up = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec = double(2 * w, w)
        self.out = nn.Conv2d(w, out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.down1(x)
        b = self.down2(F.max_pool2d(a, 2))
        return self.out(self.dec(torch.cat([self.up(b), a], 1)))


class VAE(nn.Module):
    def __init__(self, d: int = 36, z: int = 4):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, 24), nn.ReLU())
        self.mu, self.logvar = nn.Linear(24, z), nn.Linear(24, z)
        self.dec = nn.Sequential(nn.Linear(z, 24), nn.ReLU(), nn.Linear(24, d), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.dec(z), mu, logvar


def vae_loss(out: tuple[torch.Tensor, torch.Tensor, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    recon, mu, logvar = out
    return F.binary_cross_entropy(recon, x, reduction="sum") - 0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp())


class TwoTower(nn.Module):
    """CLIP-style: two encoders, normalised embeddings, a learned temperature."""

    def __init__(self) -> None:
        super().__init__()
        self.image = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                   nn.Linear(8, 16))
        self.text = nn.Sequential(nn.EmbeddingBag(50, 16), nn.LayerNorm(16), nn.Linear(16, 16))
        self.scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        a, b = F.normalize(self.image(images), dim=-1), F.normalize(self.text(tokens), dim=-1)
        return self.scale.exp() * a @ b.t()


def clip_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (F.cross_entropy(logits, y) + F.cross_entropy(logits.t(), y)) / 2


class Projector(nn.Module):
    """SimCLR: encoder then a ReLU MLP projection head; returns both views' embeddings stacked."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(10, 32), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.encoder(x)), dim=1)


def nt_xent(z: torch.Tensor, y: torch.Tensor, t: float = 0.5) -> torch.Tensor:
    sim = z @ z.t() / t
    sim = sim.masked_fill(torch.eye(len(z), dtype=torch.bool), float("-inf"))
    return F.cross_entropy(sim, y)


def distill(student_logits: torch.Tensor, y: torch.Tensor, t: float = 4.0) -> torch.Tensor:
    teacher = torch.randn(student_logits.shape, generator=_g(9))
    soft = F.kl_div(F.log_softmax(student_logits / t, 1), F.softmax(teacher / t, 1), reduction="batchmean")
    return soft * t * t + F.cross_entropy(student_logits, y)


class CTCNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(6, 12)  # (T, N, F)
        self.out = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.out(self.rnn(x)[0]), dim=2)


def ctc(log_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    t, n, _ = log_probs.shape
    return F.ctc_loss(log_probs, targets, torch.full((n,), t), torch.full((n,), targets.shape[1]))


def mixup(out: torch.Tensor, y: torch.Tensor, lam: float = 0.7) -> torch.Tensor:
    return lam * F.cross_entropy(out, y[:, 0]) + (1 - lam) * F.cross_entropy(out, y[:, 1])


class Seq2Seq(nn.Module):
    def __init__(self, vocab: int = 30) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.enc, self.dec = nn.GRU(8, 16, batch_first=True), nn.GRU(8, 16, batch_first=True)
        self.out = nn.Linear(16, vocab)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        _, h = self.enc(self.embed(src))
        return self.out(self.dec(self.embed(tgt_in), h)[0])


class MultiTask(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.cls, self.reg = nn.Linear(16, 3), nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.body(x)
        return {"logits": self.cls(h), "value": self.reg(h)}


class HFStyle(nn.Module):
    """model(**batch) with input_ids and attention_mask, returning a dict with logits."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(40, 16)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 1)
        self.classifier = nn.Linear(16, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.encoder(self.embed(input_ids), src_key_padding_mask=attention_mask == 0)
        return {"logits": self.classifier(h[:, 0])}


class GCN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w1, self.w2 = nn.Linear(6, 16), nn.Linear(16, 3)
        adj = (torch.rand(10, 10, generator=_g(7)) < 0.3).float() + torch.eye(10)
        self.register_buffer("adj", adj / adj.sum(1, keepdim=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adj @ self.w2(F.relu(self.adj @ self.w1(x)))


class ViT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 4, stride=4)
        self.cls = nn.Parameter(torch.zeros(1, 1, 16))
        self.blocks = nn.Sequential(Block(16, 2, causal=False))
        self.norm, self.head = nn.LayerNorm(16), nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.patch(x).flatten(2).transpose(1, 2)
        h = self.blocks(torch.cat([self.cls.expand(len(x), -1, -1), p], 1))
        return self.head(self.norm(h[:, 0]))


class Attention(nn.Module):
    """Additive attention over time, then a classifier: a softmax over dim=1 in the middle of the model."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(5, 12, batch_first=True)
        self.score = nn.Linear(12, 1)
        self.out = nn.Linear(12, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.rnn(x)[0]
        w = torch.softmax(self.score(torch.tanh(h)), dim=1)
        return self.out((w * h).sum(1))


def quantile(out: torch.Tensor, y: torch.Tensor, q: float = 0.9) -> torch.Tensor:
    e = y - out
    return torch.maximum(q * e, (q - 1) * e).mean()


def wgan_critic(scores: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    return scores[real[:, 0] == 0].mean() - scores[real[:, 0] == 1].mean()


def dice_bce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(out)
    dice = 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
    return dice + F.binary_cross_entropy_with_logits(out, y)


def _mask(n: int = 4, size: int = 12) -> torch.Tensor:
    m = torch.zeros(n, 1, size, size)
    m[:, :, 3:9, 2:8] = 1.0
    return m


def _seg_labels(k: int = 4, ignore: bool = False) -> torch.Tensor:
    y = torch.randint(0, k, (4, 12, 12), generator=_g(8))
    if ignore:
        y[:, 0] = 255  # VOC marks object borders 255 and trains with ignore_index=255
    return y


_PT = "https://github.com/pytorch/examples"
ok("https://arxiv.org/abs/1512.03385", "resnet_cross_entropy",
   lambda: dict(model=ResNet(), loss=nn.CrossEntropyLoss(), inputs=images(8, 3, 16), target=labels(8, 10)))
ok("https://arxiv.org/abs/1512.00567", "resnet_label_smoothing",
   lambda: dict(model=ResNet(), loss=nn.CrossEntropyLoss(label_smoothing=0.1), inputs=images(8, 3, 16),
                target=labels(8, 10), metrics=["accuracy"]))
ok("https://github.com/karpathy/nanoGPT", "nanogpt_reshaped_head",
   lambda: dict(model=GPT(), loss=gpt_loss, inputs=torch.randint(0, 64, (4, 12), generator=_g(1)),
                target=torch.randint(0, 64, (4, 12), generator=_g(2))))
ok("https://github.com/karpathy/nanoGPT", "nanogpt_padding_ignored",
   lambda: dict(model=GPT(), loss=gpt_loss, inputs=torch.randint(0, 64, (4, 12), generator=_g(1)),
                target=torch.where(torch.arange(12) < 9, torch.randint(0, 64, (4, 12), generator=_g(2)), -1)))
ok("https://pytorch.org/tutorials/beginner/nlp/sequence_models_tutorial.html", "lstm_tagger_flattened",
   lambda: dict(model=Tagger(), loss=lambda out, y: F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)),
                inputs=torch.randint(0, 50, (4, 9), generator=_g(3)), target=labels(36, 7).view(4, 9)))
ok("https://pytorch.org/tutorials/beginner/nlp/sequence_models_tutorial.html", "lstm_tagger_log_softmax_nll",
   lambda: dict(model=nn.Sequential(Tagger(), nn.LogSoftmax(dim=-1)),
                loss=lambda out, y: F.nll_loss(out.view(-1, 7), y.view(-1)),
                inputs=torch.randint(0, 50, (4, 9), generator=_g(3)), target=labels(36, 7).view(4, 9)))
ok("https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html", "lstm_sequence_first_classifier",
   lambda: dict(model=_LastStep(nn.LSTM(5, 12), nn.Linear(12, 3)), loss=nn.CrossEntropyLoss(),
                inputs=torch.randn(10, 6, 5, generator=_g(4)), target=labels(6, 3)))
ok("https://pytorch.org/docs/stable/generated/torch.nn.GRU.html", "gru_regression",
   lambda: dict(model=_LastStep(nn.GRU(3, 12, batch_first=True), nn.Linear(12, 1)), loss=nn.MSELoss(),
                inputs=torch.randn(8, 6, 3, generator=_g(5)), target=values(8), metrics=["mae", "r2"]))
ok("https://arxiv.org/abs/1505.04597", "unet_binary_mask_bce_logits",
   lambda: dict(model=UNet(), loss=nn.BCEWithLogitsLoss(), inputs=images(4, 3, 12), target=_mask()))
ok("https://arxiv.org/abs/1505.04597", "unet_multiclass_cross_entropy",
   lambda: dict(model=UNet(out=4), loss=nn.CrossEntropyLoss(), inputs=images(4, 3, 12), target=_seg_labels()))
ok("http://host.robots.ox.ac.uk/pascal/VOC/", "unet_voc_ignore_index_255",
   lambda: dict(model=UNet(out=4), loss=nn.CrossEntropyLoss(ignore_index=255), inputs=images(4, 3, 12),
                target=_seg_labels(ignore=True)))
ok("https://arxiv.org/abs/1606.04797", "unet_dice_on_probabilities_plus_bce",
   lambda: dict(model=UNet(), loss=dice_bce, inputs=images(4, 3, 12), target=_mask()))
ok("https://arxiv.org/abs/1312.6114", "vae_bce_plus_kl",
   lambda: dict(model=VAE(), loss=vae_loss, inputs=torch.rand(8, 36, generator=_g(6)),
                target=torch.rand(8, 36, generator=_g(6))))
ok(f"{_PT}/tree/main/mnist", "mnist_log_softmax_nll",
   lambda: dict(model=convnet([1, 8, 16], [32, 10], nn.ReLU, 2, nn.LogSoftmax(dim=1)), loss=F.nll_loss,
                inputs=images(8), target=labels(8, 10)))
ok("https://arxiv.org/abs/1704.00028", "wgan_critic_mean_difference",
   lambda: dict(model=mlp([10, 32, 32, 1], nn.LeakyReLU), loss=wgan_critic, inputs=X(16, 10),
                target=binary(16)))
ok("https://arxiv.org/abs/1511.06434", "dcgan_discriminator_bce_logits",
   lambda: dict(model=convnet([1, 8, 16], [1], nn.LeakyReLU), loss=nn.BCEWithLogitsLoss(), inputs=images(8),
                target=binary(8)))
ok("https://arxiv.org/abs/2103.00020", "clip_symmetric_contrastive",
   lambda: dict(model=TwoTower(), loss=clip_loss,
                inputs=(images(6, 3, 8), torch.randint(0, 50, (6, 5), generator=_g(7))), target=torch.arange(6)))
ok("https://arxiv.org/abs/2002.05709", "simclr_nt_xent",
   lambda: dict(model=Projector(), loss=nt_xent, inputs=X(8, 10),
                target=torch.cat([torch.arange(4, 8), torch.arange(0, 4)])))
ok("https://arxiv.org/abs/1503.02531", "distillation_kl_div_plus_ce",
   lambda: dict(model=mlp([8, 32, 5]), loss=distill, inputs=X(), target=labels(16, 5)))
ok("https://arxiv.org/abs/1711.10561", "pinn_tanh_mlp_mse",
   lambda: dict(model=mlp([2, 20, 20, 20, 1], nn.Tanh), loss=nn.MSELoss(), inputs=torch.rand(16, 2, generator=_g(8)),
                target=values(16, -1, 1)))
ok("https://pytorch.org/docs/stable/generated/torch.nn.CTCLoss.html", "ctc_gru_log_softmax",
   lambda: dict(model=CTCNet(), loss=ctc, inputs=torch.randn(12, 3, 6, generator=_g(9)),
                target=torch.randint(1, 5, (3, 4), generator=_g(9))))
ok("https://arxiv.org/abs/1710.09412", "mixup_two_cross_entropies",
   lambda: dict(model=mlp([8, 32, 4]), loss=mixup, inputs=X(), target=torch.stack([labels(16, 4),
                                                                                  labels(16, 4).flip(0)], 1)))
ok("https://arxiv.org/abs/1708.02002", "focal_loss_detector_head",
   lambda: dict(model=mlp([8, 32, 1]), loss="focal", inputs=X(), target=binary()))
ok("https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html", "multilabel_bce_logits",
   lambda: dict(model=mlp([8, 32, 5]), loss=nn.BCEWithLogitsLoss(), inputs=X(),
                target=(torch.rand(16, 5, generator=_g(10)) < 0.4).float()))
ok("https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html", "binary_pos_weight",
   lambda: dict(model=mlp([8, 16, 1]), loss=nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0])), inputs=X(),
                target=binary(), metrics=["f1", "average_precision"]))
ok("https://pytorch.org/docs/stable/generated/torch.nn.BCELoss.html", "binary_sigmoid_bce",
   lambda: dict(model=mlp([8, 16, 1], nn.ReLU, nn.Sigmoid()), loss=nn.BCELoss(), inputs=X(), target=binary(),
                metrics=["accuracy", "auroc"]))
ok("https://pytorch.org/docs/stable/generated/torch.nn.HuberLoss.html", "tabular_regression_huber",
   lambda: dict(model=mlp([8, 32, 32, 1]), loss=nn.HuberLoss(), inputs=X(), target=values()))
ok("https://arxiv.org/abs/1504.08083", "bbox_regression_smooth_l1",
   lambda: dict(model=mlp([8, 32, 4]), loss=nn.SmoothL1Loss(), inputs=X(), target=torch.randn(16, 4, generator=_g(11))))
ok("https://pytorch.org/docs/stable/generated/torch.nn.PoissonNLLLoss.html", "count_regression_poisson",
   lambda: dict(model=mlp([8, 16, 1]), loss=nn.PoissonNLLLoss(), inputs=X(),
                target=torch.poisson(torch.full((16, 1), 3.0), generator=_g(12))))
ok("https://en.wikipedia.org/wiki/Ordinal_regression", "ordinal_ratings_mse_one_output",
   lambda: dict(model=mlp([8, 16, 1]), loss=nn.MSELoss(), inputs=X(), target=(labels(16, 5) + 1).float()[:, None]))
ok(f"{_PT}/tree/main/word_language_model", "seq2seq_permuted_cross_entropy",
   lambda: dict(model=Seq2Seq(), loss=lambda out, y: F.cross_entropy(out.permute(0, 2, 1), y),
                inputs=(torch.randint(0, 30, (4, 7), generator=_g(13)), torch.randint(0, 30, (4, 6), generator=_g(14))),
                target=torch.randint(0, 30, (4, 6), generator=_g(15))))
ok("https://arxiv.org/abs/1409.0473", "attention_softmax_over_time_classifier",
   lambda: dict(model=Attention(), loss=nn.CrossEntropyLoss(), inputs=torch.randn(6, 7, 5, generator=_g(16)),
                target=labels(6, 4)))
ok("https://arxiv.org/abs/1609.02907", "gcn_node_classification",
   lambda: dict(model=GCN(), loss=nn.CrossEntropyLoss(), inputs=X(10, 6), target=labels(10, 3)))
ok("https://pytorch.org/tutorials/beginner/basics/buildmodel_tutorial.html", "tabular_mlp_batchnorm_dropout",
   lambda: dict(model=nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2),
                                    nn.Linear(32, 3)),
                loss=nn.CrossEntropyLoss(), inputs=X(), target=labels(), metrics=["accuracy", "f1"]))
ok("https://huggingface.co/docs/transformers/main_classes/output", "dict_output_multitask",
   lambda: dict(model=MultiTask(), loss=lambda out, y: F.cross_entropy(out["logits"], y[:, 0].long())
                + F.mse_loss(out["value"], y[:, 1:]), inputs=X(),
                target=torch.cat([labels().float()[:, None], values()], 1)))
ok("https://huggingface.co/docs/transformers/model_doc/bert", "hf_style_kwargs_dict_output",
   lambda: dict(model=HFStyle(), loss=lambda out, y: F.cross_entropy(out["logits"], y),
                inputs={"input_ids": torch.randint(0, 40, (4, 6), generator=_g(17)),
                        "attention_mask": torch.ones(4, 6, dtype=torch.long)}, target=labels(4, 2)))
ok("https://huggingface.co/docs/transformers/model_doc/bert", "hf_style_loss_on_logits_key",
   lambda: dict(model=HFStyle(), loss=nn.CrossEntropyLoss(),
                inputs={"input_ids": torch.randint(0, 40, (4, 6), generator=_g(17)),
                        "attention_mask": torch.ones(4, 6, dtype=torch.long)}, target=labels(4, 2)))
ok("https://arxiv.org/abs/2010.11929", "vit_tiny_cross_entropy",
   lambda: dict(model=ViT(), loss=nn.CrossEntropyLoss(), inputs=images(4, 3, 8), target=labels(4, 5)))
ok("https://pytorch.org/docs/stable/generated/torch.nn.GRU.html", "gru_sequence_first_classifier",
   lambda: dict(model=_LastStep(nn.GRU(4, 8), nn.Linear(8, 2)), loss=nn.CrossEntropyLoss(),
                inputs=torch.randn(9, 5, 4, generator=_g(18)), target=labels(5, 2)))
ok("https://arxiv.org/abs/1703.04730", "quantile_regression_pinball",
   lambda: dict(model=mlp([8, 16, 1]), loss=quantile, inputs=X(), target=values()))
ok("https://arxiv.org/abs/1911.04252", "soft_targets_cross_entropy",
   lambda: dict(model=mlp([8, 16, 4]), loss=nn.CrossEntropyLoss(), inputs=X(),
                target=torch.softmax(torch.randn(16, 4, generator=_g(19)), 1)))
ok("https://arxiv.org/abs/1906.02629", "label_smoothing_kl_div",
   lambda: dict(model=mlp([8, 16, 4], nn.ReLU, nn.LogSoftmax(dim=1)), loss=nn.KLDivLoss(reduction="batchmean"),
                inputs=X(), target=F.one_hot(labels(16, 4), 4).float() * 0.9 + 0.025))
ok("https://pytorch.org/audio/stable/tutorials/speech_recognition_pipeline_tutorial.html", "conv1d_audio_gelu",
   lambda: dict(model=nn.Sequential(nn.Conv1d(1, 8, 5, stride=2), nn.GELU(), nn.Conv1d(8, 16, 5, stride=2),
                                    nn.GELU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 6)),
                loss=nn.CrossEntropyLoss(), inputs=torch.randn(6, 1, 64, generator=_g(20)), target=labels(6, 6)))
ok(f"{_PT}/tree/main/vae", "conv_autoencoder_sigmoid_mse",
   lambda: dict(model=nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                                    nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Sigmoid()),
                loss=nn.MSELoss(), inputs=torch.rand(4, 1, 12, 12, generator=_g(21)),
                target=torch.rand(4, 1, 12, 12, generator=_g(21))))
ok("https://pytorch.org/docs/stable/generated/torch.nn.EmbeddingBag.html", "embedding_bag_text_classifier",
   lambda: dict(model=nn.Sequential(nn.EmbeddingBag(100, 16), nn.Linear(16, 4)), loss=nn.CrossEntropyLoss(),
                inputs=torch.randint(0, 100, (8, 10), generator=_g(22)), target=labels(8, 4)))
ok("https://arxiv.org/abs/1801.04381", "mobilenet_depthwise_separable",
   lambda: dict(model=nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6(),
                                    nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Conv2d(8, 16, 1),
                                    nn.BatchNorm2d(16), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                    nn.Linear(16, 10)),
                loss=nn.CrossEntropyLoss(), inputs=images(4, 3, 12), target=labels(4, 10)))
ok("https://arxiv.org/abs/1409.1556", "vgg_style_dropout_head",
   lambda: dict(model=nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                    nn.Linear(16 * 9, 32), nn.ReLU(), nn.Dropout(), nn.Linear(32, 10)),
                loss=nn.CrossEntropyLoss(), inputs=images(4, 3, 12), target=labels(4, 10)))
ok("https://pytorch.org/docs/stable/generated/torch.nn.MultiLabelSoftMarginLoss.html", "multilabel_soft_margin",
   lambda: dict(model=mlp([8, 16, 5]), loss=nn.MultiLabelSoftMarginLoss(), inputs=X(),
                target=(torch.rand(16, 5, generator=_g(23)) < 0.3).float()))
ok("https://arxiv.org/abs/1412.6980", "imbalanced_binary_with_average_precision",
   lambda: dict(model=mlp([8, 16, 1]), loss=nn.BCEWithLogitsLoss(), inputs=X(64),
                target=(torch.arange(64) % 16 == 0).float()[:, None], metrics=["accuracy", "average_precision"]))
ok("https://arxiv.org/abs/1506.01497", "detector_tuple_output_cls_and_box",
   lambda: dict(model=_TwoHeads(), loss=lambda out, y: F.cross_entropy(out[0], y[:, 0].long())
                + F.smooth_l1_loss(out[1], y[:, 1:]), inputs=X(),
                target=torch.cat([labels(16, 3).float()[:, None], torch.randn(16, 4, generator=_g(24))], 1)))


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.cls, self.box = nn.Linear(16, 3), nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.cls(h), self.box(h)
