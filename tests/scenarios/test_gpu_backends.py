"""The CuPy and JAX backends: parity with numpy on a GPU, and the clear error without one.

The GPU tests run where CuPy (or JAX) and a CUDA device exist and skip otherwise, saying which is missing.
They check the two senses in which a GPU run equals a numpy run (docs/scenarios.md, "Backends"):

* the GPU backends draw nothing themselves: every block's draws come from the same numpy generator on the host,
  so for the same seed, scenario count and block size they evaluate *identical* random numbers;
* the evaluation kernel (capacities, the three maximum flows, demand, benchmark shares) run on the device on
  those draws matches numpy's element by element to float64 rounding (relative 1e-12), and whole runs of the
  built-in scenarios give the same histogram counts, exact counts, means and quantiles.

The fallback tests run everywhere (CPU only): asking for ``cupy`` or ``jax`` without the package, or CuPy
without a device, raises :class:`BackendUnavailable` (and ``orechain simulate`` exits with that message).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from orechain.evidence.store import Store
from orechain.interfaces.cli import app
from orechain.scenarios.backends import Backend, BackendUnavailable, array_module, execute
from orechain.scenarios.backends.device import device_evaluator, fold, layouts_of, merge_folded
from orechain.scenarios.engine import Aggregate, Metrics, compile_model, draw, evaluate
from orechain.scenarios.evidence import facility_table
from orechain.scenarios.results import Result, simulate
from orechain.scenarios.sampling import block_generator
from orechain.scenarios.spec import Scenario, builtin_path, load_scenario, parse_scenario

BUILTINS = ["pakistan-us", "us-magnets-2030", "eu-crma-2030"]
RTOL = 1e-12  # float64 rounding of exp/log/pow and of a matrix product summed in another order


# -- where the GPU tests can run -------------------------------------------------------------------------
def _gpu_skip_reason(backend: str) -> str | None:
    """None when ``backend`` can run on a GPU here, else why not."""
    if backend == "cupy":
        try:
            import cupy
        except ImportError:
            return "cupy not installed (pip install cupy-cuda13x on a machine with an NVIDIA GPU)"
        try:
            if int(cupy.cuda.runtime.getDeviceCount()) < 1:
                return "cupy installed but no CUDA device (0 devices)"
        except Exception as exc:
            return f"cupy installed but no CUDA device: {exc}"
        return None
    try:
        import jax
    except ImportError:
        return "jax not installed (pip install 'jax[cuda13]' on a machine with an NVIDIA GPU)"
    if jax.default_backend() != "gpu":
        return f"jax installed but it has no GPU device (default backend: {jax.default_backend()})"
    return None


@pytest.fixture(params=["cupy", "jax"])
def gpu(request: pytest.FixtureRequest) -> str:
    reason = _gpu_skip_reason(request.param)
    if reason is not None:
        pytest.skip(reason)
    return str(request.param)


def _assert_metrics_close(ref: Metrics, got: Metrics, label: str) -> dict[str, float]:
    """Every field of ``got`` (device) equals ``ref`` (numpy) to :data:`RTOL`; integer and boolean fields
    exactly. Returns the largest relative difference of each float field."""
    worst: dict[str, float] = {}
    for name in Metrics.__dataclass_fields__:
        a, b = getattr(ref, name), getattr(got, name)
        if a is None:
            assert b is None, f"{label}: {name} is None on numpy only"
            continue
        pairs = list(zip(a, b, strict=True)) if isinstance(a, list) else [(a, b)]
        for i, (x, y) in enumerate(pairs):
            x = np.asarray(x)
            y = np.asarray(y) if not hasattr(y, "get") else y.get()
            shape = np.broadcast_shapes(x.shape, y.shape)
            x, y = np.broadcast_to(x, shape), np.broadcast_to(y, shape)
            if x.dtype.kind in "biu":
                assert np.array_equal(x, y), f"{label}: {name}[{i}] differs"
                continue
            assert np.isfinite(y).all(), f"{label}: {name}[{i}] has a non-finite value on the device"
            scale = max(float(np.abs(x).max(initial=0.0)), 1e-300)
            diff = float(np.abs(x - y).max(initial=0.0)) / scale
            worst[name] = max(worst.get(name, 0.0), diff)
            assert diff <= RTOL, f"{label}: {name}[{i}] differs by {diff:.3g} of its largest value"
    return worst


def _assert_runs_agree(ref: Result, got: Result, label: str) -> None:
    """Two runs on the same draws: exact counts equal; histogram counts equal but for values that rounding
    moved across a bin edge (at most 1 in 100,000); means to RTOL; quantiles to RTOL or one bin width."""
    a, b = ref.agg, got.agg
    assert a.n == b.n
    for field in ("producing", "reach", "impact_counts", "sourced_counts", "bench_counts"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), f"{label}: {field}"
    for key, h in a.hists.items():
        moved = int(np.abs(h.counts - b.hists[key].counts).sum()) // 2
        assert moved <= max(1, h.counts.sum() // 100_000), f"{label}: {moved} values of {key} changed bin"
        np.testing.assert_allclose(b.mean(key), a.mean(key), rtol=RTOL, atol=0, err_msg=f"{label}: mean {key}")
        qs = [0.05, 0.25, 0.5, 0.75, 0.95]
        qa, qb = h.quantiles(qs), b.hists[key].quantiles(qs)
        tol = np.maximum(RTOL * np.abs(qa), h.width[None, :] if moved else 0.0) + 1e-300
        assert (np.abs(qa - qb) <= tol).all(), f"{label}: quantiles of {key}"
    moved = int(np.abs(a.project_hist.counts - b.project_hist.counts).sum()) // 2
    assert moved <= max(1, a.project_hist.counts.sum() // 100_000), f"{label}: capacity by project"
    np.testing.assert_allclose(b.mean("capacity"), a.mean("capacity"), rtol=RTOL, atol=1e-9)


@pytest.fixture(scope="module")
def builtins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scenario]:
    from orechain.evidence.shipped import load_into

    path = tmp_path_factory.mktemp("gpu") / "shipped.db"
    with Store.open(path) as store:
        load_into(store)
        table = facility_table(store)
    return {name: load_scenario(builtin_path(name), table) for name in BUILTINS}


# -- parity on a GPU -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", BUILTINS)
def test_kernel_matches_numpy_on_the_same_draws(gpu: str, name: str, builtins: dict[str, Scenario]) -> None:
    """The same numpy draws, moved to the device, give the same capacities, flows and shares."""
    m = compile_model(builtins[name])
    for block, n in ((0, 4096), (1, 777)):
        d = draw(m, block_generator(11, block), n)
        ref = evaluate(m, d.copy(), np)
        got = device_evaluator(m, gpu)(d)
        worst = _assert_metrics_close(ref, got, f"{gpu} {name} block {block}")
        print(f"{gpu} {name} n={n}: largest relative difference by field {worst}")


def test_kernel_matches_numpy_on_the_small_scenario(gpu: str, small_text: str) -> None:
    """Gates, hazards, a suspended policy and an impact on a hand-written chain (no evidence base)."""
    m = compile_model(parse_scenario(small_text, "small.yaml"))
    d = draw(m, block_generator(3, 0), 5000)
    _assert_metrics_close(evaluate(m, d.copy(), np), device_evaluator(m, gpu)(d), f"{gpu} small")


def _to_device(met: Metrics, xp: Any) -> Metrics:
    def move(a: Any) -> Any:
        return None if a is None else [xp.asarray(x) for x in a] if isinstance(a, list) else xp.asarray(a)

    return Metrics(*(move(getattr(met, f)) for f in Metrics.__dataclass_fields__))


@pytest.mark.parametrize("name", BUILTINS)
def test_device_fold_equals_aggregate_add(gpu: str, name: str, builtins: dict[str, Scenario]) -> None:
    """The same per-scenario values folded on the device and by :meth:`Aggregate.add` on the host give the same
    counts and per-bin extremes exactly (so the same quantiles), and the same sums to rounding."""
    m = compile_model(builtins[name])
    xp = array_module(gpu)[0]
    met = evaluate(m, draw(m, block_generator(13, 0), 6000), np)
    ref = Aggregate.empty(m)
    ref.add(0, m, met)
    got = Aggregate.empty(m)
    out = fold(m, _to_device(met, xp), layouts_of(m), xp)
    host = {k: tuple(None if a is None else np.asarray(array_module(gpu)[1](a)) for a in v)
            if isinstance(v, tuple) else np.asarray(array_module(gpu)[1](v)) for k, v in out.items()}
    assert not bool(host["bad"])
    merge_folded(got, 0, m, 6000, host)
    for key, h in ref.hists.items():
        assert np.array_equal(h.counts, got.hists[key].counts), key
        assert np.array_equal(h.bmin, got.hists[key].bmin), key
        assert np.array_equal(h.bmax, got.hists[key].bmax), key
        np.testing.assert_allclose(got.mean(key), ref.mean(key), rtol=RTOL, atol=0)
    assert np.array_equal(ref.project_hist.counts, got.project_hist.counts)
    for field in ("producing", "reach", "impact_counts", "sourced_counts", "bench_counts"):
        assert np.array_equal(getattr(ref, field), getattr(got, field)), field
    np.testing.assert_allclose(got.mean("capacity"), ref.mean("capacity"), rtol=RTOL, atol=1e-9)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_run_matches_numpy(gpu: str, name: str, builtins: dict[str, Scenario]) -> None:
    """Whole runs, blocks of unequal length (4096, 4096, 1808) included, through the public ``simulate``."""
    s = builtins[name]
    ref = simulate(s, 10_000, seed=7, block_size=4096, tornado=False)
    got = simulate(s, 10_000, seed=7, backend=gpu, block_size=4096, tornado=False)
    assert got.backend == gpu
    _assert_runs_agree(ref, got, f"{gpu} {name}")


def test_progress_and_draw_threads_do_not_change_the_result(gpu: str, small_text: str) -> None:
    m = compile_model(parse_scenario(small_text, "small.yaml"))
    seen: list[int] = []
    one = execute(m, 9_000, 5, gpu, block_size=2_000, draw_threads=1, progress=seen.append)
    many = execute(m, 9_000, 5, gpu, block_size=2_000, draw_threads=6)
    assert seen == [2_000] * 4 + [1_000]
    assert one.n == many.n == 9_000
    for key, h in one.hists.items():
        assert np.array_equal(h.counts, many.hists[key].counts), key
        assert np.array_equal(one.mean(key), many.mean(key)), key


def test_cli_simulate_on_the_gpu(gpu: str, tmp_path: Path, small_text: str) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(small_text, encoding="utf-8")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["simulate", str(path), "-n", "3000", "--backend", gpu, "--format", "json",
                                   "--out", str(out), "--no-tornado"])
    assert res.exit_code == 0, res.output
    assert f'"backend": "{gpu}"' in out.read_text(encoding="utf-8")


# -- without a GPU (runs everywhere) ---------------------------------------------------------------------
@pytest.mark.parametrize(("backend", "module", "hint"),
                         [("cupy", "cupy", "cupy-cuda13x"), ("jax", "jax", "jax[cuda13]")])
def test_missing_package_is_a_clear_error(backend: str, module: str, hint: str, small_text: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError, as when not installed
    with pytest.raises(BackendUnavailable, match="not installed") as info:
        array_module(backend)
    assert hint in str(info.value)
    with pytest.raises(BackendUnavailable, match=r"needs"):
        simulate(parse_scenario(small_text, "small.yaml"), 100, backend=backend, tornado=False)


def _fake_cupy(count: Any) -> types.ModuleType:
    def get_device_count() -> int:
        if isinstance(count, Exception):
            raise count
        return int(count)

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))  # type: ignore[attr-defined]
    return cupy


@pytest.mark.parametrize("count", [RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected"), 0])
def test_cupy_without_a_device_is_a_clear_error(count: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(count))
    with pytest.raises(BackendUnavailable, match="no CUDA device is usable"):
        array_module(Backend.CUPY)


def test_cli_backend_cupy_without_cupy(tmp_path: Path, small_text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)
    path = tmp_path / "small.yaml"
    path.write_text(small_text, encoding="utf-8")
    res = CliRunner().invoke(app, ["simulate", str(path), "-n", "100", "--backend", "cupy", "--no-tornado"])
    assert res.exit_code != 0
    assert "cupy" in res.output and "not installed" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_jax_compiles_once_per_block_length_and_frees_with_the_model(small_text: str) -> None:
    if (reason := _gpu_skip_reason("jax")) is not None:
        pytest.skip(reason)
    import gc

    from orechain.scenarios.backends.device import _JIT_CACHE

    m = compile_model(parse_scenario(small_text, "small.yaml"))
    first = execute(m, 5_000, 2, "jax", block_size=2_000)
    assert sorted(_JIT_CACHE[id(m)][1]) == [("fold", 1_000), ("fold", 2_000)]  # two block lengths, two programs
    again = execute(m, 5_000, 2, "jax", block_size=2_000)
    assert sorted(_JIT_CACHE[id(m)][1]) == [("fold", 1_000), ("fold", 2_000)]
    assert np.array_equal(first.hists["flow"].counts, again.hists["flow"].counts)
    key = id(m)
    del m
    gc.collect()
    assert key not in _JIT_CACHE


def test_value_outside_a_histogram_fails_the_run(gpu: str, small_text: str) -> None:
    """A value the device finds outside a histogram's range fails the run with the engine's own error (no
    clipping, no partial result)."""
    from dataclasses import replace

    m = replace(compile_model(parse_scenario(small_text, "small.yaml")), flow_hi=1.0)  # flows reach ~900
    with pytest.raises(RuntimeError, match="outside the histogram range"):
        execute(m, 3_000, 1, gpu, block_size=1_000)
