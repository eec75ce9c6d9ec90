"""Side-by-side timing and autograd memory of almanac against its peers.

A :class:`Case` holds several :class:`Contender` callables that do the same work (almanac's and the peers').
:func:`run` times them interleaved in one process: each round calls every contender once (in a rotating order),
so machine noise hits all of them alike; the reported time is the median over rounds, by the wall clock or, with
``clock="cpu"``, by this process's CPU time (steadier when other processes share the cores; it adds up the
time of every thread, so compare multi-threaded peers with it only at one thread). The ratio of a row is
almanac's median over the peer's. ``saved`` is the bytes autograd keeps for the backward pass (measured with
``torch.autograd.graph.saved_tensors_hooks``, each storage counted once), for contenders that run a backward.
On a CUDA device (``device="cuda"``) the time of each round is taken with CUDA events around the loop (kernels are
asynchronous: a host clock would time the launches), after a synchronisation.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["CLOCKS", "Case", "Contender", "Row", "fwd_bwd", "run", "saved_bytes"]

@dataclass(frozen=True)
class Contender:
    """One implementation of a case. ``fn()`` does the measured work once; ``memory`` says whether to measure
    the bytes autograd saves while it runs; ``target``, for a peer, replaces the case's target on its row
    (e.g. "" for a peer shown for information only)."""

    label: str
    fn: Callable[[], Any]
    memory: bool = True
    target: str | None = None


@dataclass(frozen=True)
class Case:
    """A unit of work (``name``, on inputs described by ``shape``) and its contenders; the first is almanac's."""

    name: str
    shape: str
    contenders: Sequence[Contender]
    target: str = ""  # the target the issue sets, printed beside the ratio, e.g. "≤ 1.1× torch"
    notes: tuple[str, ...] = ()  # printed under the table, e.g. why a peer was left out


@dataclass
class Row:
    case: str
    shape: str
    peer: str
    ours_ms: float
    peer_ms: float
    ratio: float
    ours_saved: int | None
    peer_saved: int | None
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def fwd_bwd(forward: Callable[[], torch.Tensor], *leaves: torch.Tensor) -> Callable[[], None]:
    """A contender body that runs ``forward()``, backpropagates the sum of its output and clears the grads."""

    def body() -> None:
        out = forward()
        out.backward(torch.ones_like(out)) if out.ndim else out.backward()
        for leaf in leaves:
            leaf.grad = None

    return body


def saved_bytes(fn: Callable[[], Any]) -> int:
    """Bytes of the distinct storages autograd saves for backward while ``fn`` runs."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


CLOCKS: dict[str, Callable[[], float]] = {
    "wall": time.perf_counter,  # elapsed time: what a user waits
    "cpu": time.process_time,  # CPU time of this process, all threads: steadier on a busy machine
}



def _cuda_clock() -> Callable[[Callable[[], Any], int], float]:
    """Seconds that ``loops`` calls of ``fn`` take on the current CUDA stream, by CUDA events."""

    def timed(fn: Callable[[], Any], loops: int) -> float:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        for _ in range(loops):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3

    return timed


def _host_clock(clock: Callable[[], float]) -> Callable[[Callable[[], Any], int], float]:
    def timed(fn: Callable[[], Any], loops: int) -> float:
        start = clock()
        for _ in range(loops):
            fn()
        return clock() - start

    return timed


def _time_cases(case: Case, rounds: int, min_seconds: float, clock: Callable[[], float],
                device: str = "cpu") -> list[float]:
    """Median seconds per call of each contender, interleaved over ``rounds``."""
    for c in case.contenders:  # warm-up: allocator, lazy init, torch.compile
        c.fn()
    timed = _cuda_clock() if device.startswith("cuda") else _host_clock(clock)
    loops = [max(1, int(min_seconds / max(timed(c.fn, 1), 1e-7))) for c in case.contenders]
    samples: list[list[float]] = [[] for _ in case.contenders]
    n = len(case.contenders)
    for r in range(rounds):
        for k in range(n):
            i = (k + r) % n  # rotate the order so no contender always runs first
            samples[i].append(timed(case.contenders[i].fn, loops[i]) / loops[i])
    return [statistics.median(s) for s in samples]


def run(
    cases: Sequence[Case],
    *,
    rounds: int = 7,
    min_seconds: float = 0.02,
    clock: str = "wall",
    progress: Callable[[str], None] | None = None,
    device: str = "cpu",
) -> list[Row]:
    """Time every case; one :class:`Row` per (case, peer), with the ratio almanac / peer. ``device="cuda"``
    times with CUDA events (``clock`` is then unused)."""
    rows: list[Row] = []
    for case in cases:
        if progress is not None:
            progress(case.name)
        times = _time_cases(case, rounds, min_seconds, CLOCKS[clock], device)
        saved = [saved_bytes(c.fn) if c.memory else None for c in case.contenders]
        peers = case.contenders[1:]
        for peer, peer_time, peer_saved in zip(peers, times[1:], saved[1:]):
            rows.append(Row(case.name, case.shape, peer.label, times[0] * 1e3, peer_time * 1e3,
                            times[0] / peer_time, saved[0], peer_saved,
                            case.target if peer.target is None else peer.target))
    return rows
