"""A Dask worker killed (SIGKILL) mid-run: its work is redone elsewhere and the result equals the local run's."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable

import numpy as np
import pytest

from orechain.scenarios import backends
from orechain.scenarios.engine import Aggregate, Model, run_blocks
from orechain.scenarios.results import simulate
from orechain.scenarios.spec import parse_scenario

SCENARIOS = 1_000_000  # about 4 s of work on one core, in 1,000 blocks (8 Dask tasks on 2 workers)
BLOCK = 1_000
SEED = 11


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_worker_killed_mid_run_is_retried_and_result_equals_local(small_text: str) -> None:
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    s = parse_scenario(small_text, "small.yaml")
    local = simulate(s, SCENARIOS, seed=SEED, block_size=BLOCK)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pids: dict[str, int] = client.run(os.getpid)
        assert len(pids) == 2
        killed: dict[str, int] = {}
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if killed:
                return
            # After the first task's result arrives, kill a worker that is running a task right now.
            processing = client.processing()
            busy = [addr for addr, keys in processing.items() if keys and addr in pids]
            assert busy, f"no worker is running a task after the first result: {processing}"
            victim = busy[0]
            os.kill(pids[victim], signal.SIGKILL)
            killed.update(pid=pids[victim], done=done[0], in_flight=len(processing[victim]))

        dask = simulate(s, SCENARIOS, seed=SEED, backend="dask", scheduler=cluster.scheduler_address,
                        block_size=BLOCK, progress=progress)

        # The kill happened mid-run, with work in flight on the killed worker, and that process is gone.
        assert killed, "the run finished without the worker being killed"
        assert 0 < killed["done"] < SCENARIOS
        assert killed["in_flight"] >= 1
        with pytest.raises(ProcessLookupError):
            os.kill(killed["pid"], 0)
        assert done[0] == SCENARIOS

    assert dask.agg.n == local.agg.n == SCENARIOS
    assert sorted(dask.agg.block_sums) == sorted(local.agg.block_sums) == list(range(SCENARIOS // BLOCK))
    for key in local.agg.hists:
        assert np.array_equal(local.agg.hists[key].counts, dask.agg.hists[key].counts), key
        assert np.array_equal(local.agg.mean(key), dask.agg.mean(key)), key
    assert np.array_equal(local.agg.project_hist.counts, dask.agg.project_hist.counts)
    assert np.array_equal(local.agg.producing, dask.agg.producing)
    assert np.array_equal(local.agg.reach, dask.agg.reach)
    assert np.array_equal(local.agg.impact_counts, dask.agg.impact_counts)
    assert np.array_equal(local.agg.sourced_counts, dask.agg.sourced_counts)
    assert local.fans().equals(dask.fans())


# -- a task that errs: retried, and if it keeps failing the run fails naming the blocks ------------------------
_ATTEMPTS: dict[int, int] = {}
_LOCK = threading.Lock()
_FAIL_FIRST = [0]  # attempts of the task holding block 0 that raise


def _flaky_run_blocks(m: Model, seed: int, blocks: Iterable[tuple[int, int]]) -> Aggregate:
    group = list(blocks)
    with _LOCK:
        _ATTEMPTS[group[0][0]] = attempt = _ATTEMPTS.get(group[0][0], 0) + 1
    if group[0][0] == 0 and attempt <= _FAIL_FIRST[0]:
        raise OSError(f"injected failure, attempt {attempt}")
    return run_blocks(m, seed, group)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("fail_first", [backends.DASK_RETRIES, backends.DASK_RETRIES + 1])
def test_erring_task_is_retried_then_fails_the_whole_run(small_text: str, monkeypatch: pytest.MonkeyPatch,
                                                         fail_first: int) -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    monkeypatch.setattr(backends, "run_blocks", _flaky_run_blocks)
    _ATTEMPTS.clear()
    _FAIL_FIRST[0] = fail_first
    s = parse_scenario(small_text, "small.yaml")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        if fail_first <= backends.DASK_RETRIES:
            dask = simulate(s, 8_000, seed=3, backend="dask", scheduler=cluster.scheduler_address, block_size=1_000)
            local = simulate(s, 8_000, seed=3, block_size=1_000)
            assert _ATTEMPTS[0] == fail_first + 1
            assert dask.agg.n == 8_000
            assert local.fans().equals(dask.fans())
            for key in local.agg.hists:
                assert np.array_equal(local.agg.hists[key].counts, dask.agg.hists[key].counts), key
        else:
            with pytest.raises(backends.DaskRunFailed, match=r"^2 of 8 blocks \(1 of 4 Dask tasks\) failed after 3 "
                                                             r"retries; no partial result"):
                simulate(s, 8_000, seed=3, backend="dask", scheduler=cluster.scheduler_address, block_size=1_000)
            assert _ATTEMPTS[0] == backends.DASK_RETRIES + 1
