"""Two gloo processes on localhost each update part of the data; ``compute()`` must equal the single-process value
for every registered metric (sum, min / max and cat states), leave local states untouched, and cope with a rank
that saw no data."""

from __future__ import annotations

import os
import pickle
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from metric_inputs import assert_close, cases, function, keywords, make, value_or_error

import almanac as am

N, CUT = 37, 15  # uneven halves: the cat states of the ranks differ in length


def _seed(name: str, task: str) -> int:
    return sum(map(ord, name + task))


def _worker(rank: int, world: int, port: int, out: str) -> None:
    torch.set_num_threads(1)  # a forked child must not reuse the parent's OpenMP pool (as DataLoader workers)
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        results = {}
        for name, task in cases():
            preds, target = make(name, task, N, _seed(name, task))
            part = slice(0, CUT) if rank == 0 else slice(CUT, None)
            m = am.metrics.get(name, **keywords(name, task))
            m.update(preds[part], target[part])
            before = m.state_dict()
            results[(name, task)] = value_or_error(m.compute)
            after = m.state_dict()
            assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
        lonely = am.metrics.get("f1", task="multiclass", num_classes=3)
        if rank == 0:
            lonely.update([0, 1, 2, 2], [0, 1, 1, 2])
        results["lonely"] = lonely.compute()
        if rank == 0:
            Path(out).write_bytes(pickle.dumps(results))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_compute_combines_every_rank(tmp_path):
    out = tmp_path / "results.pkl"
    # fork, not spawn: a spawned child spends seconds re-importing torch; the workers touch no CUDA
    mp.start_processes(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True, start_method="fork")
    results = pickle.loads(out.read_bytes())
    for name, task in cases():
        preds, target = make(name, task, N, _seed(name, task))
        single = value_or_error(function(name), preds, target, **keywords(name, task))
        assert_close(results[(name, task)], single, rtol=1e-9)
    assert results["lonely"] == pytest.approx(am.metrics.f1([0, 1, 2, 2], [0, 1, 1, 2], num_classes=3))
