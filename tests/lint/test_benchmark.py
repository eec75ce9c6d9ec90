"""The checker's benchmark: every faulty setup is caught by its rule, no correct setup gets an error or a warning."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest
import torch

import almanac as am
from almanac.lint import RULES

from .corpus import CORPUS
from .setups import SETUPS, Setup

# nn.Softmax() without dim is one of the faults on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Implicit dimension choice:UserWarning")


@cache
def _run(s: Setup) -> am.lint.Report:
    """Each setup is checked once; the per-setup tests and the summary share the report."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        case = s.build()
    model = case.pop("model")
    return am.lint.check(model, case.pop("loss", None), **case)


@pytest.mark.parametrize("s", [s for s in SETUPS if s.faulty], ids=lambda s: f"{s.rule}-{s.name}")
def test_faulty_setup_is_caught(s: Setup) -> None:
    report = _run(s)
    assert s.rule in report.codes, str(report)


@pytest.mark.parametrize("s", [s for s in SETUPS if not s.faulty], ids=lambda s: f"{s.rule}-{s.name}")
def test_correct_setup_is_clean(s: Setup) -> None:
    report = _run(s)
    assert not report.findings, str(report)


def test_every_rule_has_three_faulty_and_two_correct_setups() -> None:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in SETUPS:
        counts[s.rule][0 if s.faulty else 1] += 1
    assert sorted(counts) == sorted(RULES)
    # info notes (AL000: what was not analysed) need one case each way; real rules three faulty and two correct
    assert all(f >= 3 and c >= 2 for code, (f, c) in counts.items() if RULES[code].severity != "info"), dict(counts)
    assert all(f >= 1 and c >= 1 for f, c in counts.values()), dict(counts)


def test_detection_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Detection rate and false alarms per rule, printed as a table."""
    caught: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    alarms: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in SETUPS:
        report = _run(s)
        if s.faulty:
            caught[s.rule][0] += s.rule in report.codes
            caught[s.rule][1] += 1
        else:
            alarms[s.rule][0] += bool(report.findings)
            alarms[s.rule][1] += 1
    lines = [f"{'rule':6} {'detected':>9} {'false alarms':>13}"]
    for code in sorted(caught):
        lines.append(f"{code:6} {caught[code][0]:>4}/{caught[code][1]:<4} {alarms[code][0]:>7}/{alarms[code][1]:<5}")
    total_caught = sum(c[0] for c in caught.values())
    total_faulty = sum(c[1] for c in caught.values())
    total_alarms = sum(a[0] for a in alarms.values())
    total_correct = sum(a[1] for a in alarms.values())
    lines.append(f"all    {total_caught:>4}/{total_faulty:<4} {total_alarms:>7}/{total_correct:<5}")
    with capsys.disabled():
        print("\nalmanac check benchmark: detection per rule (faulty setups caught) and false alarms "
              "(correct setups with any finding)\n" + "\n".join(lines))
    assert total_caught == total_faulty and total_alarms == 0


# -- the corpus of real cases (tests/lint/corpus.py) ---------------------------------------------------------------
@pytest.mark.parametrize("s", [s for s in CORPUS if s.faulty], ids=lambda s: f"{s.rule}-{s.name}")
def test_real_bug_is_caught(s: Setup) -> None:
    report = _run(s)
    assert s.rule in report.codes, f"{s.source}\n{report}"


@pytest.mark.parametrize("s", [s for s in CORPUS if not s.faulty], ids=lambda s: s.name)
def test_real_correct_setup_is_clean(s: Setup) -> None:
    report = _run(s)
    assert not report.findings, f"{s.source}\n{report}"


def test_corpus_size_and_sources() -> None:
    faulty = [s for s in CORPUS if s.faulty]
    assert len(faulty) >= 80 and len(CORPUS) - len(faulty) >= 50
    assert all(s.source.startswith("http") for s in CORPUS)
    assert len({s.name for s in CORPUS}) == len(CORPUS)


def test_corpus_recall_and_false_alarms(capsys: pytest.CaptureFixture[str]) -> None:
    """Recall per rule on the real bugs (target ≥ 95% overall) and false alarms on the real correct setups (0)."""
    caught: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors = warnings = 0
    for s in CORPUS:
        report = _run(s)
        if s.faulty:
            caught[s.rule][0] += s.rule in report.codes
            caught[s.rule][1] += 1
        else:
            errors += bool(report.errors)
            warnings += bool(report.warnings)
    lines = [f"{code:6} {hit:>3}/{total:<3}" for code, (hit, total) in sorted(caught.items())]
    hit, total = sum(c[0] for c in caught.values()), sum(c[1] for c in caught.values())
    correct = sum(not s.faulty for s in CORPUS)
    with capsys.disabled():
        print("\nreal bugs caught, per rule:\n" + "\n".join(lines) + f"\nall    {hit:>3}/{total:<3} "
              f"({hit / total:.0%}); correct setups: {errors} with an error, {warnings} with a warning, "
              f"of {correct}")
    assert hit / total >= 0.95
    assert errors == 0 and warnings == 0
