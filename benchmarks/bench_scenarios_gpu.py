"""Benchmark: scenario-years per second of the scenario engine on numpy (one core, and every core through the
Dask backend), CuPy and JAX, side by side in one run, at 1e5..1e7 scenarios, with peak GPU memory.

Every backend runs the same model on the same seed; numpy and Dask use the CPU block size (8,192, the
default), the GPU backends a larger one (``--gpu-block``, default 100,000, so that 1e5, 1e6 and 1e7 are whole
blocks and JAX compiles one program). At the first size each GPU backend runs twice: the first run (cold: CUDA
context, kernel compilation, JAX's jit) and the second (warm) are both reported; larger sizes reuse what was
compiled and are timed once. Ratios use warm runs. numpy on
one core is timed once after a small warm-up (it has nothing to compile). The 16-core figure uses a
``LocalCluster`` of single-threaded worker processes started before the clock starts (its start-up time is
printed separately). BLAS threads are set to 1 before numpy loads; JAX is told not to preallocate GPU memory
so that CuPy and JAX share the card. Peak GPU memory: CuPy's memory pool after the run (its pool keeps what it
allocated, so this is the peak held; the pool is emptied before each run); JAX's ``peak_bytes_in_use`` since
the process started (sizes run in increasing order, so it is the peak of the largest run so far).

Run (on a machine with an NVIDIA GPU, CuPy and JAX; Dask for the all-core row):
    python benchmarks/bench_scenarios_gpu.py --json out.json
    python benchmarks/bench_scenarios_gpu.py --sizes 100000,1000000 --backends numpy,cupy,jax --name eu-crma-2030
Without CuPy/JAX/a GPU those rows print "not available" with the reason.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from _scenario_setup import builtin  # noqa: E402

from orechain.scenarios.backends import DRAW_THREADS, BackendUnavailable, array_module, execute  # noqa: E402
from orechain.scenarios.engine import BLOCK_SIZE, Aggregate, compile_model  # noqa: E402


def _gpu_memory(backend: str) -> float | None:
    """Peak GPU memory in MB as described in the module docstring."""
    if backend == "cupy":
        import cupy

        return float(cupy.get_default_memory_pool().total_bytes()) / 1e6
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return float(stats.get("peak_bytes_in_use", float("nan"))) / 1e6
    return None


def _reset_gpu(backend: str) -> None:
    if backend == "cupy":
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()


def _device_name() -> str:
    try:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        return str(name.decode() if isinstance(name, bytes) else name)
    except Exception as exc:
        return f"no CUDA device through CuPy ({type(exc).__name__})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="pakistan-us")
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--backends", default="numpy,dask,cupy,jax")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gpu-block", type=int, default=100_000)
    ap.add_argument("--cpu-block", type=int, default=BLOCK_SIZE)
    ap.add_argument("--numpy-max", type=int, default=1_000_000, help="largest size run on numpy (one core)")
    ap.add_argument("--draw-threads", type=int, default=DRAW_THREADS, help="host threads drawing for the GPU")
    ap.add_argument("--sweep", default="", help="draw-thread counts to also time for the GPU backends at "
                    "--sweep-size (warm runs), e.g. 1,4,8,15")
    ap.add_argument("--sweep-size", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Dask workers (single-threaded)")
    ap.add_argument("--json", default=None, help="write every row here")
    args = ap.parse_args()
    sizes = [int(float(x)) for x in args.sizes.split(",")]
    backends = args.backends.split(",")
    s = builtin(args.name)
    m = compile_model(s)
    n_y = m.n_years
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {args.name}: {n_y} years, {m.n_projects} projects "
          f"({len(m.dynamic)} drawn), {len(m.nets)} flows per scenario-year")
    print(f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; GPU: {_device_name()}")
    rows: list[dict[str, Any]] = []
    cluster: Any = None
    unavailable: dict[str, str] = {}
    for b in backends:
        try:
            if b in ("cupy", "jax"):
                array_module(b)
            if b == "dask":
                from distributed import LocalCluster

                t0 = time.perf_counter()
                cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                                       dashboard_address=None)
                print(f"dask LocalCluster of {args.workers} single-threaded workers started in "
                      f"{time.perf_counter() - t0:.1f} s (not counted below)")
        except (BackendUnavailable, ImportError) as exc:
            unavailable[b] = f"{type(exc).__name__}: {exc}"
            print(f"{b}: not available: {exc}")
    execute(m, 2 * args.cpu_block, args.seed, "numpy", block_size=args.cpu_block)  # warm-up (imports, allocator)
    try:
        for n in sizes:
            ref_mean: Any = None
            for b in backends:
                if b in unavailable or (b == "numpy" and n > args.numpy_max):
                    continue
                block = args.gpu_block if b in ("cupy", "jax") else args.cpu_block
                kw: dict[str, Any] = {"block_size": block, "draw_threads": args.draw_threads}
                if b == "dask":
                    kw["scheduler"] = cluster.scheduler_address
                # GPU: the first size runs twice (cold, then warm); later sizes use the same block length, so
                # nothing is compiled again and one (warm) run is timed
                runs = 2 if b in ("cupy", "jax") and n == sizes[0] else 1
                times: list[float] = []
                cpu: float = 0.0
                agg: Aggregate | None = None
                for _ in range(runs):
                    _reset_gpu(b)
                    w0, c0 = time.perf_counter(), time.process_time()
                    agg = execute(m, n, args.seed, b, **kw)
                    times.append(time.perf_counter() - w0)
                    cpu = time.process_time() - c0
                assert agg is not None and agg.n == n
                mean = float(agg.mean("flow")[-1])
                ref_mean = mean if ref_mean is None else ref_mean
                row = {"name": args.name, "backend": b, "scenarios": n, "block_size": block,
                       "draw_threads": args.draw_threads if b in ("cupy", "jax") else None,
                       "scenario_years": n * n_y, "wall_s": times[-1], "cold_wall_s": times[0],
                       "rate": n * n_y / times[-1], "process_cpu_s": cpu, "gpu_peak_mb": _gpu_memory(b),
                       "mean_flow_last_year": mean}
                rows.append(row)
                mem = f", GPU peak {row['gpu_peak_mb']:,.0f} MB" if row["gpu_peak_mb"] is not None else ""
                cold = f" (cold {times[0]:.2f} s)" if runs == 2 else ""
                row["cold_wall_s"] = times[0] if runs == 2 else None
                print(f"  {b:6s} n={n:>11,} block {block:>7,}: {times[-1]:8.2f} s{cold} -> "
                      f"{row['rate'] / 1e6:8.2f} M scenario-years/s{mem}; mean flow {s.years[-1]} {mean:.6f}",
                      flush=True)
        sweep = [int(x) for x in args.sweep.split(",") if x]
        for threads in sweep:
            for b in ("cupy", "jax"):
                if b not in backends or b in unavailable:
                    continue
                w0 = time.perf_counter()
                agg = execute(m, args.sweep_size, args.seed, b, block_size=args.gpu_block, draw_threads=threads)
                wall = time.perf_counter() - w0
                rate = args.sweep_size * n_y / wall
                rows.append({"name": args.name, "backend": b, "scenarios": args.sweep_size, "sweep": True,
                             "block_size": args.gpu_block, "draw_threads": threads, "wall_s": wall, "rate": rate})
                print(f"  sweep {b:5s} n={args.sweep_size:,} draw threads {threads:2d}: {wall:7.2f} s -> "
                      f"{rate / 1e6:7.2f} M scenario-years/s", flush=True)
    finally:
        if cluster is not None:
            cluster.close()
    # ratios against numpy on one core at the same size
    print(f"\nGPU backends: {args.draw_threads} draw threads")
    print("\n| scenarios | backend | block | wall s (warm) | cold s | M scenario-years/s | x numpy 1 core "
          "| x dask all cores | GPU peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r.get("sweep"):
            continue
        same = {x["backend"]: x for x in rows if x["scenarios"] == r["scenarios"] and not x.get("sweep")}
        x1 = f"{r['rate'] / same['numpy']['rate']:.1f}" if "numpy" in same else "-"
        xd = f"{r['rate'] / same['dask']['rate']:.2f}" if "dask" in same else "-"
        gpu = f"{r['gpu_peak_mb']:,.0f}" if r["gpu_peak_mb"] is not None else "-"
        cold = f"{r['cold_wall_s']:.2f}" if r["cold_wall_s"] is not None else "-"
        print(f"| {r['scenarios']:,} | {r['backend']} | {r['block_size']:,} | {r['wall_s']:.2f} | {cold} | "
              f"{r['rate'] / 1e6:.2f} | {x1} | {xd} | {gpu} |")
    for b, why in unavailable.items():
        print(f"| - | {b} | - | not available: {why} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"device": _device_name(), "cpus": os.cpu_count(), "rows": rows,
                       "unavailable": unavailable}, fh, indent=1)


if __name__ == "__main__":
    main()
