"""Where a run executes: numpy in this process (default), Dask (LocalCluster or a scheduler address), or
CuPy/JAX on a GPU when those optional packages are installed.

Every backend runs the same blocks with the same draws (numpy generators on the host, one per block), so
for the same seed, scenario count and block size every backend evaluates the same random numbers; see
:mod:`orechain.scenarios.engine`. numpy and Dask give bit-identical results. CuPy and JAX evaluate the same
draws in float64 on the device, whose ``exp``, ``log``, ``pow`` and matrix products may round differently in
the last bit: their flows, capacities and counts agree with numpy's to rounding (measured on an H100, see
docs/scenarios.md, "Backends"). How the GPU backends run: :mod:`orechain.scenarios.backends.device`. A
backend whose package (or device) is missing raises :class:`BackendUnavailable` with what to install.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import numpy as np

from orechain.scenarios.engine import BLOCK_SIZE, Aggregate, Model, blocks_for, run_block, run_blocks

__all__ = ["DASK_RETRIES", "DRAW_THREADS", "Backend", "BackendUnavailable", "DaskRunFailed", "array_module",
           "execute"]

Progress = Callable[[int], None]
DASK_RETRIES = 3  # resubmissions of a Dask task that errs (a task whose worker dies is also rescheduled)
DRAW_THREADS = max(1, min((os.cpu_count() or 2) - 1, 15))
"""Host threads drawing the next blocks while a GPU backend evaluates (numpy's generators release the GIL while
they fill arrays); each holds one block of draws (about 190 MB per 100,000 scenarios of pakistan-us)."""


class Backend(StrEnum):
    NUMPY = "numpy"
    DASK = "dask"
    CUPY = "cupy"
    JAX = "jax"


class BackendUnavailable(RuntimeError):
    """The backend's optional package (or its hardware) is not available here."""


class DaskRunFailed(RuntimeError):
    """Some blocks of a Dask run failed even after retries; the run returns nothing rather than a short result."""


def array_module(backend: Backend | str) -> tuple[Any, Callable[[Any], Any]]:
    """(xp, to_numpy) for an array backend; raises :class:`BackendUnavailable` when its package or, for CuPy,
    a CUDA device is missing. Choosing JAX turns on its float64 mode (``jax_enable_x64``) for the process: the
    engine computes in float64 everywhere."""
    b = Backend(backend)
    if b in (Backend.NUMPY, Backend.DASK):
        return np, np.asarray
    if b is Backend.CUPY:
        try:
            import cupy
        except ImportError as exc:
            raise BackendUnavailable("the cupy backend needs CuPy and an NVIDIA GPU: pip install cupy-cuda13x "
                                     "(or cupy-cuda12x, matching your CUDA driver); cupy is not installed "
                                     "here") from exc
        try:
            count = int(cupy.cuda.runtime.getDeviceCount())
        except Exception as exc:  # CUDARuntimeError without a driver or device
            raise BackendUnavailable(f"CuPy is installed but no CUDA device is usable: {exc}") from exc
        if count < 1:
            raise BackendUnavailable("CuPy is installed but no CUDA device is usable: 0 devices found")
        return cupy, cupy.asnumpy
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        raise BackendUnavailable("the jax backend needs JAX: pip install 'jax[cuda13]' for an NVIDIA GPU or "
                                 "'jax' for the CPU (not installed here)") from exc
    jax.config.update("jax_enable_x64", True)
    return jnp, np.asarray


def _groups(blocks: Sequence[tuple[int, int]], parts: int) -> list[list[tuple[int, int]]]:
    size = max(1, math.ceil(len(blocks) / max(parts, 1)))
    return [list(blocks[i:i + size]) for i in range(0, len(blocks), size)]


def execute(model: Model, scenarios: int, seed: int, backend: Backend | str = Backend.NUMPY, *,
            block_size: int = BLOCK_SIZE, scheduler: str | None = None, workers: int | None = None,
            progress: Progress | None = None, draw_threads: int = DRAW_THREADS) -> Aggregate:
    """Run ``scenarios`` scenarios of ``model`` and return the merged aggregate. ``draw_threads`` is the size
    of the host thread pool that draws ahead for the GPU backends."""
    if scenarios < 1:
        raise ValueError("--scenarios must be at least 1")
    b = Backend(backend)
    blocks = blocks_for(scenarios, block_size)
    if b is Backend.DASK:
        return _execute_dask(model, seed, blocks, scheduler, workers, progress)
    if b in (Backend.CUPY, Backend.JAX):
        array_module(b)  # BackendUnavailable before anything is drawn
        from orechain.scenarios.backends.device import execute_device

        return execute_device(model, seed, blocks, b.value, progress, draw_threads)
    xp, to_numpy = array_module(b)
    agg = Aggregate.empty(model)
    for block, n in blocks:
        agg.merge(run_block(model, seed, block, n, xp, to_numpy))
        if progress is not None:
            progress(n)
    return agg


def _execute_dask(model: Model, seed: int, blocks: list[tuple[int, int]], scheduler: str | None,
                  workers: int | None, progress: Progress | None) -> Aggregate:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise BackendUnavailable("the dask backend needs the optional extra: pip install 'orechain[dask]'") from exc
    cluster: Any = None
    if scheduler:
        client: Any = Client(scheduler)  # type: ignore[no-untyped-call]
    else:
        n_workers = workers or max(1, min(os.cpu_count() or 1, len(blocks)))
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                               dashboard_address=None)
        client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        groups = _groups(blocks, n_workers * 4)
        # A task whose worker dies is rescheduled on another worker by the scheduler; one that still errs is
        # resubmitted up to DASK_RETRIES times. Every future is gathered: a group that still fails fails the run.
        futures = client.map(run_blocks, [model] * len(groups), [seed] * len(groups), groups, pure=False,
                             retries=DASK_RETRIES)
        agg = Aggregate.empty(model)
        failed: list[tuple[list[tuple[int, int]], BaseException]] = []
        group_of = {fut.key: group for fut, group in zip(futures, groups, strict=True)}
        # as_completed otherwise tracks on the *default* client's event loop, which is another client's when the
        # caller has one (a lost future's retry then fails with "bound to a different event loop").
        for fut in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
            try:
                part: Aggregate = fut.result()
            except Exception as exc:
                failed.append((group_of[fut.key], exc))
                continue
            agg.merge(part)
            if progress is not None:
                progress(part.n)
        if failed:
            n_blocks = sum(len(g) for g, _ in failed)
            raise DaskRunFailed(f"{n_blocks} of {len(blocks)} blocks ({len(failed)} of {len(groups)} Dask tasks) "
                                f"failed after {DASK_RETRIES} retries; no partial result is returned. First error: "
                                f"{type(failed[0][1]).__name__}: {failed[0][1]}") from failed[0][1]
        expected = sum(n for _, n in blocks)
        if agg.n != expected:  # pragma: no cover - guards against a silently short result
            raise DaskRunFailed(f"the Dask run aggregated {agg.n} scenarios, expected {expected}")
        return agg
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
