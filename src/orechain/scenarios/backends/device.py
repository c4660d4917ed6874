"""The GPU backends (CuPy, JAX): host draws, device evaluation, device folding into the run's aggregate.

For each block the host draws with the block's numpy generator (the same numbers as every other backend),
copies the draws to the device, evaluates them there (:func:`orechain.scenarios.engine.evaluate` with the
backend's array module) and folds the per-scenario arrays into fixed-size partial results on the device
(:func:`fold`: histogram counts with each bin's smallest and largest value, per-block sums, target, impact
and benchmark counts). Only those small arrays come back to the host, where they are added to the
:class:`~orechain.scenarios.engine.Aggregate` exactly as :meth:`Aggregate.add` would have added them: the bin of a
value is computed with the same float64 operations (a subtraction, a product, ``ceil``), which round the same
on the device, so a value lands in the same bin on every backend; the per-block sums are summed in another
order (a reduction instead of a matrix product) and so agree with numpy's to rounding.

JAX compiles evaluation and folding of a block into one program per block length (``jax.jit``); CuPy runs
them op by op. The host draws the next blocks in a thread pool and aggregates block ``b`` after block
``b + 1`` has been queued on the device, so host and device work overlap.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from orechain.scenarios.engine import (
    Aggregate,
    Draws,
    Hist,
    Metrics,
    Model,
    draw,
    evaluate,
    hist_arrays,
    run_block,
    tune_allocator,
)
from orechain.scenarios.sampling import block_generator

__all__ = ["Evaluator", "HistLayout", "device_evaluator", "execute_device", "fold", "layouts_of", "merge_folded"]

Evaluator = Callable[[Draws], Metrics]
Progress = Callable[[int], None]
_JIT_CACHE: dict[int, tuple[weakref.ref[Model], dict[tuple[str, int], Any]]] = {}  # id(model) -> jitted programs


# -- evaluation ------------------------------------------------------------------------------------------
def _module(backend: str) -> Any:
    from orechain.scenarios.backends import array_module

    return array_module(backend)[0]


def _jitted(model: Model, what: str, n: int, body: Callable[[Model, Draws], Any]) -> Any:
    """``jax.jit`` of ``body(model, Draws(n, *arrays))``, kept per model (weakly: the cache does not keep the
    model alive) and block length, so later runs of the same model compile nothing."""
    import jax

    entry = _JIT_CACHE.get(id(model))
    if entry is None or entry[0]() is not model:
        entry = (weakref.ref(model), {})
        _JIT_CACHE[id(model)] = entry
        weakref.finalize(model, _JIT_CACHE.pop, id(model), None)
    ref, compiled = entry
    fn = compiled.get((what, n))
    if fn is None:
        def traced(*arrays: Any) -> Any:
            m = ref()
            assert m is not None
            return body(m, Draws(n, *arrays))

        fn = compiled[(what, n)] = jax.jit(traced)
    return fn


_DRAW_FIELDS = tuple(f.name for f in fields(Draws) if f.name != "n")


def _draw_arrays(d: Draws) -> list[Any]:
    return [getattr(d, k) for k in _DRAW_FIELDS]


def device_evaluator(model: Model, backend: str) -> Evaluator:
    """``Draws -> Metrics`` on ``backend``'s device (for parity checks of the kernel alone); JAX's is compiled
    once per block length."""
    xp = _module(backend)
    if backend != "jax":
        return lambda d: evaluate(model, d, xp)

    def body(m: Model, d: Draws) -> list[Any]:
        met = evaluate(m, d, xp)
        return [getattr(met, f.name) for f in fields(Metrics)]

    return lambda d: Metrics(*_jitted(model, "evaluate", d.n, body)(*_draw_arrays(d)))


# -- folding on the device -------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistLayout:
    """The host constants of one :class:`Hist` that :meth:`Hist.add` computes from ``lo`` and ``hi``."""

    lo: np.ndarray[Any, np.dtype[np.float64]]
    scale: np.ndarray[Any, np.dtype[np.float64]]
    tol: np.ndarray[Any, np.dtype[np.float64]]
    offset: np.ndarray[Any, np.dtype[np.int64]]
    bins: int
    size: int
    extremes: bool

    @classmethod
    def of(cls, h: Hist) -> HistLayout:
        scale = h.bins / np.where(h.hi > h.lo, h.hi - h.lo, 1.0)
        return cls(h.lo.copy(), scale, 1e-9 * np.maximum(1.0, np.abs(h.hi)) * scale,
                   np.arange(len(h.lo), dtype=np.int64) * h.slots, h.bins, len(h.counts), h.extremes)


def _is_jax(xp: Any) -> bool:
    return str(getattr(xp, "__name__", "")).startswith("jax")


def _bincount(xp: Any, x: Any, size: int) -> Any:
    return xp.bincount(x, length=size) if _is_jax(xp) else xp.bincount(x, minlength=size)


def _extremes(xp: Any, flat: Any, vals: Any, counts: Any, size: int) -> tuple[Any, Any]:
    """Smallest and largest value in each bin (``inf``/``-inf`` for an empty bin), as ``np.minimum.at`` and
    ``np.maximum.at`` compute them. JAX: a scatter-min/max. CuPy: sort by bin then value (``lexsort``) and read
    each bin's first and last value (exact; ``cupy.minimum.at`` gave other values for float64 on CuPy 14.2 on
    the H100, see docs/scenarios.md, "Backends")."""
    if _is_jax(xp):
        return (xp.full(size, np.inf).at[flat].min(vals), xp.full(size, -np.inf).at[flat].max(vals))
    ordered = vals[xp.lexsort(xp.stack([vals, flat.astype(np.float64)]))]  # by bin, then by value
    last = xp.cumsum(counts) - 1
    first = last - counts + 1
    top = len(ordered) - 1
    bmin = xp.where(counts > 0, ordered[xp.clip(first, 0, top)], np.inf)
    bmax = xp.where(counts > 0, ordered[xp.clip(last, 0, top)], -np.inf)
    return bmin, bmax


def _fold_hist(xp: Any, lay: HistLayout, v: Any) -> tuple[Any, Any, Any, Any]:
    """(counts, bin minima, bin maxima, any value out of range) of ``v`` (n, k): :meth:`Hist.add` on the
    device, with the same float64 operations for the bin of each value."""
    z = (v - xp.asarray(lay.lo)) * xp.asarray(lay.scale)
    tol = xp.asarray(lay.tol)
    bad = xp.any((z < -tol) | (z > lay.bins + tol) | xp.isnan(z))
    idx = xp.clip(xp.ceil(z), 0, lay.bins).astype(np.int64) + (z >= lay.bins) + xp.asarray(lay.offset)
    flat = xp.clip(idx.ravel(), 0, lay.size - 1)  # only a bad value (which fails the run) could be outside
    counts = _bincount(xp, flat, lay.size)
    if not lay.extremes:
        return counts, None, None, bad
    bmin, bmax = _extremes(xp, flat, v.ravel(), counts, lay.size)
    return counts, bmin, bmax, bad


def fold(m: Model, met: Metrics, layouts: dict[str, HistLayout], xp: Any) -> dict[str, Any]:
    """Everything :meth:`Aggregate.add` keeps of one block, computed on the device (small arrays)."""
    n, n_y = met.flow.shape
    out: dict[str, Any] = {}
    bad = []
    for key, v in hist_arrays(m, met).items():
        v = xp.asarray(v, dtype=np.float64)
        counts, bmin, bmax, b = _fold_hist(xp, layouts[key], v)
        out[f"hist:{key}"] = (counts, bmin, bmax)
        out[f"sum:{key}"] = xp.sum(v, axis=0)
        bad.append(b)
    if met.capacity:
        caps = xp.concatenate([xp.broadcast_to(c, (n, n_y)) for c in met.capacity], axis=1)
        counts, _, _, b = _fold_hist(xp, layouts["project"], caps)
        out["project"] = counts
        out["sum:capacity"] = xp.sum(caps, axis=0).reshape(len(met.capacity), n_y)
        bad.append(b)
    else:
        out["project"] = xp.zeros(layouts["project"].size, dtype=np.int64)
        out["sum:capacity"] = xp.zeros((0, n_y))
    targets = m.scenario.targets
    if targets:
        running, cols = met.flow[:, 0], []
        for y in range(n_y):
            running = xp.maximum(running, met.flow[:, y])
            cols.append(xp.stack([xp.sum(running >= value) for value, _year in targets]))
        out["reach"] = xp.stack(cols, axis=1)
    else:
        out["reach"] = xp.zeros((0, n_y), dtype=np.int64)
    if met.impact_year is not None:
        out["impact"] = _bincount(xp, met.impact_year, n_y + 1)
        out["sourced"] = _bincount(xp, met.sourced_year, n_y + 1)
    if met.bench_met is not None:
        out["bench"] = xp.sum(met.bench_met, axis=0)
    out["bad"] = xp.any(xp.stack(bad))
    return out


def merge_folded(agg: Aggregate, block: int, m: Model, n: int, host: dict[str, Any]) -> None:
    """Add one block's :func:`fold` (copied to the host) to ``agg``, as :meth:`Aggregate.add` would."""
    agg.n += n
    sums: dict[str, Any] = {}
    for key, h in agg.hists.items():
        counts, bmin, bmax = host[f"hist:{key}"]
        h.counts += np.asarray(counts, dtype=np.int64)
        np.minimum(h.bmin, bmin, out=h.bmin)
        np.maximum(h.bmax, bmax, out=h.bmax)
        sums[key] = np.asarray(host[f"sum:{key}"], dtype=float)
    agg.project_hist.counts += np.asarray(host["project"], dtype=np.int64)
    sums["capacity"] = np.asarray(host["sum:capacity"], dtype=float)
    agg.producing[~m.is_dynamic] += n * (m.static[~m.is_dynamic] > 0)
    agg.reach += np.asarray(host["reach"], dtype=np.int64)
    if "impact" in host:
        agg.impact_counts += np.asarray(host["impact"], dtype=np.int64)
        agg.sourced_counts += np.asarray(host["sourced"], dtype=np.int64)
    if "bench" in host:
        agg.bench_counts += np.asarray(host["bench"], dtype=np.int64)
    agg.block_sums[block] = sums


def layouts_of(m: Model) -> dict[str, HistLayout]:
    empty = Aggregate.empty(m)
    out = {key: HistLayout.of(h) for key, h in empty.hists.items()}
    out["project"] = HistLayout.of(empty.project_hist)
    return out


# -- the run ---------------------------------------------------------------------------------------------
def _prefetched_draws(model: Model, seed: int, blocks: Sequence[tuple[int, int]],
                      threads: int) -> Iterator[tuple[int, Draws]]:
    """Each block's draws, in block order, drawn ``threads`` blocks ahead in a thread pool (a block's draws
    depend only on its own generator, so the order of drawing changes nothing)."""
    with ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        ahead: deque[tuple[int, Future[Draws]]] = deque()
        todo = iter(blocks)
        for block, n in todo:
            ahead.append((block, pool.submit(draw, model, block_generator(seed, block), n)))
            if len(ahead) > threads:
                break
        while ahead:
            block, fut = ahead.popleft()
            nxt = next(todo, None)
            if nxt is not None:
                ahead.append((nxt[0], pool.submit(draw, model, block_generator(seed, nxt[0]), nxt[1])))
            yield block, fut.result()


def execute_device(model: Model, seed: int, blocks: Sequence[tuple[int, int]], backend: str,
                   progress: Progress | None, draw_threads: int) -> Aggregate:
    """Run ``blocks`` on CuPy or JAX (see the module docstring)."""
    tune_allocator()
    xp = _module(backend)
    layouts = layouts_of(model)
    agg = Aggregate.empty(model)

    def body(m: Model, d: Draws) -> dict[str, Any]:
        return fold(m, evaluate(m, d, xp), layouts, xp)

    if backend == "jax":
        import jax

        def queue(d: Draws) -> Any:
            return _jitted(model, "fold", d.n, body)(*_draw_arrays(d))

        def fetch(out: Any) -> dict[str, Any]:
            host: dict[str, Any] = jax.device_get(out)
            return host
    else:
        import cupy

        def queue(d: Draws) -> Any:
            return body(model, d)

        def fetch(out: Any) -> dict[str, Any]:
            host: dict[str, Any] = {k: tuple(None if a is None else cupy.asnumpy(a) for a in v)
                                    if isinstance(v, tuple) else cupy.asnumpy(v) for k, v in out.items()}
            return host

    def finish(block: int, n: int, out: Any) -> None:
        host = fetch(out)
        if bool(host["bad"]):
            run_block(model, seed, block, n)  # numpy raises the engine's own error for the value out of range
            raise RuntimeError(f"block {block}: the {backend} backend computed a value outside a histogram's range "
                               "where numpy did not")
        merge_folded(agg, block, model, n, host)
        if progress is not None:
            progress(n)

    pending: tuple[int, int, Any] | None = None
    for block, d in _prefetched_draws(model, seed, blocks, draw_threads):
        out = queue(d)  # queued on the device (CuPy and JAX both dispatch asynchronously)
        if pending is not None:
            finish(*pending)
        pending = (block, d.n, out)
    if pending is not None:
        finish(*pending)
    return agg
