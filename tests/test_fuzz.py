"""Fuzz the public surface: bad input gets the package's own clear error, never a raw traceback;
accepted input gets finite, non-negative numbers (or none, where a model does not fit).

"The package's own error" is a :class:`ValueError` (``errors.UnknownNameError``,
``catalog.CatalogError`` and ``cli.UsageError`` are subclasses) raised by the package itself:
the innermost frame of its traceback is in ``inference_wars/``, so numpy's or pandas' own
``ValueError`` escaping unexplained counts as a raw traceback. Every strategy is derandomised so
CI sees the same inputs on every run; ``N_TRIED`` counts them (explicit list + examples).
"""

from __future__ import annotations

import importlib
import math
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import (
    api,
    catalog,
    challenger,
    economics,
    fleet,
    hardwired,
    landscape,
    systolic,
    uncertainty,
    validation,
)
from inference_wars.cli import main

# `iw.formats` is the catalog table function; the module is the engine's
fmts = importlib.import_module("inference_wars.engine.formats")

PACKAGE = Path(iw.__file__).resolve().parent
M, C = "llama-3.1-70b", "h100-sxm"
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --------------------------------------------------------------------------- checks


def raised_by_package(exc: BaseException) -> bool:
    """A ValueError whose innermost frame is in the package (a deliberate, explained error)."""
    if not isinstance(exc, ValueError):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def numbers_in(result, path="result"):
    """Every number inside a result, with where it was found."""
    if result is None or isinstance(result, (str, bool, np.bool_)):
        return
    if isinstance(result, api.Estimate):
        yield from numbers_in(result.to_dict(), path)
    elif isinstance(result, pd.DataFrame):
        # rows that do not fit carry no metrics (NaN = absent, as sweep(drop_unfit=False) documents)
        fits = (
            result["fits"].to_numpy(bool)
            if "fits" in result.columns
            else np.ones(len(result), bool)
        )
        absent = {f"{k}{s}" for k in api.METRICS for s in ("", "_low", "_high")}
        for col in result.columns:
            if pd.api.types.is_numeric_dtype(result[col]) and not pd.api.types.is_bool_dtype(
                result[col]
            ):
                values = result[col].to_numpy(float)
                if col in absent:
                    assert np.isnan(values[~fits]).all(), (
                        f"{path}[{col!r}] has a number where the model does not fit"
                    )
                    values = values[fits]
                yield from ((f"{path}[{col!r}]", float(v)) for v in values)
    elif isinstance(result, pd.Series):
        yield from numbers_in(result.to_dict(), path)
    elif isinstance(result, dict):
        for k, v in result.items():
            yield from numbers_in(v, f"{path}[{k!r}]")
    elif isinstance(result, (list, tuple)):
        for i, v in enumerate(result):
            yield from numbers_in(v, f"{path}[{i}]")
    elif isinstance(result, np.ndarray):
        if result.dtype.kind in "fiu":
            yield from ((path, float(v)) for v in result.ravel())
    elif isinstance(result, (int, float, np.integer, np.floating)):
        yield path, float(result)
    elif hasattr(result, "__dict__"):
        yield from numbers_in(vars(result), path)


def check(call, *, allow_inf=(), allow_negative=(), allow_nan=()):
    """Run ``call``: it returns finite non-negative numbers (except in the named fields) or raises
    the package's own error. Returns the result (``None`` after a clean error)."""
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001  (the point: anything else is a failure)
        if raised_by_package(exc):
            assert str(exc).strip(), "an error with an empty message"
            return None
        raise AssertionError(f"raw traceback: {type(exc).__name__}: {exc}") from exc
    for where, v in numbers_in(result):
        if math.isnan(v):
            assert any(a in where for a in allow_nan), f"NaN at {where}"
            continue
        if math.isinf(v):
            assert any(a in where for a in allow_inf), f"infinite value at {where}"
            continue
        assert v >= 0 or any(a in where for a in allow_negative), f"negative value {v} at {where}"
    return result


def check_estimate(e: api.Estimate) -> None:
    """What an accepted estimate promises beyond finiteness."""
    assert e.n_chips >= 1 and e.n_chips_needed >= 1
    assert e.batch is None or e.batch >= 1
    if e.fits:
        for k in api.METRICS:
            assert getattr(e, k) is not None and getattr(e, k) > 0, k
        for k, (lo, hi) in (e.ranges or {}).items():
            assert lo <= getattr(e, k) * (1 + 1e-9) and getattr(e, k) <= hi * (1 + 1e-9), k
    else:
        assert e.reason and all(getattr(e, k) is None for k in api.METRICS)


# --------------------------------------------------------------------------- every nasty input named in issue 15


def _bad_df():
    return pd.DataFrame({"ape": [0.1, 0.2], "log_ratio": [0.0, 0.1], "chip": ["a", "b"]})


NASTY = [
    # estimate / sweep: lists where one value is expected, overflowing counts, extreme overrides
    lambda: iw.estimate(M, C, batch=[1, 64]),
    lambda: iw.estimate(M, C, scenario=["base", "optimistic"]),
    lambda: iw.estimate(M, C, precision=["fp8", "bf16"]),
    lambda: iw.estimate(M, C, n_chips=[1, 2]),
    lambda: iw.estimate([M], C),
    lambda: iw.estimate(M, [C, "b200"]),
    lambda: iw.estimate(M, C, batch=2**63),
    lambda: iw.estimate(M, C, n_chips=2**63),
    lambda: iw.estimate(M, C, batch=1e300),
    lambda: iw.estimate(M, C, n_chips=1e300),
    lambda: iw.estimate(M, C, input_tokens=2**64),
    lambda: iw.estimate(M, C, batch=float("nan")),
    lambda: iw.estimate(M, C, batch=float("inf")),
    lambda: iw.estimate(M, C, batch=True),
    lambda: iw.estimate(M, C, batch="8"),
    lambda: iw.estimate(M, C, usable_memory_fraction=1e-300),
    lambda: iw.estimate(M, C, activation_bytes=1e308),
    lambda: iw.estimate(M, C, pue=1e308),
    lambda: iw.estimate(M, C, amortization_years=1e-320),
    lambda: iw.estimate(M, C, utilization=1e-320),
    lambda: iw.estimate(M, C, usd_per_kwh=float("nan")),
    lambda: iw.estimate(M, C, max_batch_per_instance=1e300),
    lambda: iw.estimate(M, C, mtp_tokens=None),
    lambda: iw.estimate(M, C, mtp_tokens=1e300),
    lambda: iw.estimate(M, C, min_tokens_per_s_per_user=float("inf")),
    lambda: iw.estimate(M, C, max_ttft_s=-1),
    lambda: iw.estimate(M, C, objective="fastest"),
    lambda: iw.estimate(M, C, tp=2**63),
    lambda: iw.estimate(M, C, n_chips=1, ranges=True).bounds("ttft_s"),
    lambda: iw.estimate(M, C, ranges=True).bounds("bogus"),
    lambda: iw.sweep([], C),
    lambda: iw.sweep(M, C, batch=[1, 2**63]),
    lambda: iw.sweep(M, C, scenario=["base", "wild"]),
    lambda: iw.sweep(M, C, batch=[1, 8], n_chips=[2, 4], drop_unfit=False),
    lambda: iw.max_concurrent_sequences(M, C, 2**63, 1024),
    lambda: iw.max_concurrent_sequences(M, C, 2, 1024, scenario="x"),
    # chapter modules
    lambda: hardwired.tapeout_usd(-2),
    lambda: hardwired.tapeout_usd(float("nan")),
    lambda: hardwired.break_even_months(1e5, 1.0, 1e4, -5.0, 200.0, 1e6),
    lambda: hardwired.break_even_months(1e5, float("nan"), 1e4, 5.0, 200.0, 1e6),
    lambda: hardwired.zipf_shares(3, float("nan")),
    lambda: hardwired.zipf_shares(2**63),
    lambda: hardwired.zipf_shares(3, 1e308),
    lambda: hardwired.lifetime_costs(-1, 1e5, 1.0, 1e4, 5.0, 200.0, 1e6),
    lambda: hardwired.hc_chips(1e5, 1e4, utilization=float("nan")),
    lambda: hardwired.latency_budget([100, float("nan")], 32),
    lambda: hardwired.pipeline_tokens_per_s_per_user(1e9, 0),
    lambda: hardwired.scaling_table([]),
    lambda: hardwired.scaling_table("llama-3.1-8b"),
    lambda: hardwired.reference_tokens_per_s_per_user("x"),
    lambda: hardwired.tapeout_case(1e9, scenario="x"),
    lambda: hardwired.hardwire_checklist(0.6, 24, float("nan"), 1000, 100, True, 12, 3),
    lambda: challenger.configurations(M, "matx-one", batches=[0]),
    lambda: challenger.configurations(M, "matx-one", batches=[1], n_chips=[2**63]),
    lambda: challenger.configurations(
        M, "matx-one", batches=[1], hardware={"sram_gb": float("nan")}
    ),
    lambda: challenger.configurations(M, "matx-one", batches=[1], scenario="x"),
    lambda: challenger.cost_at_target(pd.DataFrame(), [100]),
    lambda: economics.cost_ratio([float("nan")], [1.0]),
    lambda: challenger.sram_resident_chips(M, "fp8", [0]),
    lambda: fleet.demand_in_chips(-1, 10),
    lambda: fleet.demand_in_chips("x", 10),
    lambda: fleet.shifting_demand(3, concentration=1e300),
    lambda: fleet.shifting_demand(3, total="x"),
    lambda: fleet.fleet_capacity([[float("nan")]]),
    lambda: fleet.utilisation_curve([0], [1.0]),
    lambda: fmts.bits_per_weight("fp8", "x"),
    lambda: fmts.bits_per_weight("fp9"),
    lambda: systolic.step_utilization([]),
    lambda: systolic.step_utilization(pd.DataFrame()),
    lambda: systolic.step_utilization(systolic.gemm_shapes(M), engine="tpu"),
    lambda: systolic.utilization_grid(M, [1], splits=[0]),
    lambda: systolic.utilization_grid(M, [1], splits=[3]),
    lambda: systolic.utilization_grid(M, []),
    lambda: systolic.systolic_utilization(64, 4096, 4096, split=float("nan")),
    lambda: systolic.gemm_shapes(M, batch=2**63),
    lambda: uncertainty.monte_carlo(M, C, seed=-1),
    lambda: uncertainty.monte_carlo(M, C, n_samples=2**63),
    lambda: uncertainty.monte_carlo(M, C, n_samples=8, pue=1e308),
    lambda: uncertainty.triangular(0.5, 2.0, 1.0, 3.0),
    lambda: validation.error_summary(_bad_df(), by="bogus"),
    lambda: validation.error_summary(_bad_df(), by=[]),
    lambda: validation.error_summary(pd.DataFrame()),
    lambda: landscape.long_comparison(pd.DataFrame()),
    lambda: landscape.memory_tiers("h100-sxm"),
    lambda: landscape.memory_tiers([]),
    lambda: landscape.model_needs([]),
    lambda: landscape.model_needs(M, batch=2**63),
    lambda: iw.get_chip(""),
    lambda: iw.get_model(None),
    lambda: catalog.assumption("pue", "sideways"),
]

CLI_NASTY = [
    [],
    ["nonsense"],
    ["estimate"],
    ["estimate", "-m", M],
    ["estimate", "-m", M, "-c", C, "--batch", "abc"],
    ["estimate", "-m", M, "-c", C, "--batch", "9223372036854775808", "--json"],
    ["estimate", "-m", M, "-c", C, "--batch", "0"],
    ["estimate", "-m", M, "-c", C, "-n", "73", "--tp", "3"],
    ["estimate", "-m", M, "-c", C, "--scenario", "wild"],
    ["estimate", "-m", M, "-c", C, "--bogus"],
    ["estimate", "-m", M, "-c", C, "--min-tokens-per-s-per-user", "nan"],
    ["estimate", "-m", M, "-c", C, "--min-tokens-per-s-per-user", "inf"],
    ["compare", "-m", M, "--chips", ","],
    ["compare", "-m", M, "--chips", "h100x,b200"],
    ["calibrate", "--output", ""],
    ["calibrate", "--output", "/nonexistent_dir/x.csv"],
    ["calibrate", "--output", "/proc/version"],
    ["calibrate", "--output", "/"],
    ["calibrate", "--output", str(PACKAGE / "data" / "calibration.csv")],
    ["calibrate", "--output", "x.csv", "--date", "not-a-date"],
    ["calibrate", "--update-shipped", "--output", "x.csv"],
    ["calibrate"],
]

N_TRIED = len(NASTY) + len(CLI_NASTY) + 5 * FUZZ.max_examples


@pytest.mark.parametrize("call", NASTY, ids=[f"nasty{i}" for i in range(len(NASTY))])
def test_every_nasty_input_from_issue_15_is_a_clear_error_or_a_finite_result(call):
    result = check(call, allow_inf=("break_even",), allow_nan=())
    if isinstance(result, api.Estimate):
        check_estimate(result)


def test_the_issue_15_inputs_that_returned_wrong_numbers_are_now_errors():
    """The inputs that returned a wrong number before are now rejected (not just finite)."""
    for call in (
        lambda: iw.estimate(M, C, batch=2**63),
        lambda: iw.estimate(M, C, batch=1e300),
        lambda: iw.estimate(M, C, usable_memory_fraction=1e-300),
        lambda: iw.estimate(M, C, activation_bytes=1e308),
        lambda: iw.estimate(M, C, pue=1e308),
        lambda: hardwired.tapeout_usd(-2),
        lambda: hardwired.zipf_shares(3, float("nan")),
        lambda: challenger.configurations(M, "matx-one", batches=[0]),
        lambda: fleet.demand_in_chips(-1, 10),
        lambda: fmts.bits_per_weight("fp8", "x"),
        lambda: iw.estimate(M, C, batch=[1, 64]),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert raised_by_package(info.value), info.value


@pytest.mark.parametrize("argv", CLI_NASTY, ids=[" ".join(a) or "(none)" for a in CLI_NASTY])
def test_every_nasty_command_line_is_one_error_line(argv, capsys):
    calibration = PACKAGE / "data" / "calibration.csv"
    before = calibration.read_bytes()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert calibration.read_bytes() == before


# --------------------------------------------------------------------------- hypothesis

NASTY_NUMBERS = [
    0,
    -1,
    2**31,
    2**63,
    2**64,
    10**30,
    1e300,
    -1e300,
    1e-300,
    1e-320,
    0.5,
    2.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    True,
    None,
    "8",
    "many",
    [1, 64],
    (),
    {},
    np.int64(8),
    np.float64(8.0),
]
nasty_number = (
    st.sampled_from(NASTY_NUMBERS) | st.floats(allow_nan=True, allow_infinity=True) | st.integers()
)
junk_name = st.sampled_from(
    ["", " ", "h100", "H100 SXM", "llama 70b", "gpt-5", "fp5", "x" * 300, "nan", "None"]
) | st.text(max_size=12)
models = st.sampled_from(catalog.model_ids())
chips = st.sampled_from(catalog.chip_ids())
precisions = st.sampled_from([None, *catalog.format_ids()])
scenarios = st.sampled_from(catalog.SCENARIOS)


def maybe(good, bad, p_bad=6):
    """Mostly good values, sometimes a nasty one (so accepted input is common enough to check)."""
    return st.one_of(*([good] * p_bad), bad)


override = st.sampled_from(sorted(api.OVERRIDE_RANGE)).flatmap(
    lambda k: st.tuples(st.just(k), maybe(st.floats(*api.OVERRIDE_RANGE[k]), nasty_number, 3))
)


GOOD_ESTIMATE = dict(
    model=models,
    chip=chips,
    precision=st.sampled_from([None, None, None, "fp8", "bf16", "nvfp4", "int8"]),
    batch=st.integers(1, 4096) | st.none(),
    input_tokens=st.integers(1, 32768),
    output_tokens=st.integers(1, 4096),
    n_chips=st.none() | st.none() | st.integers(1, 256),
    scenario=scenarios,
)


@FUZZ
@given(
    good=st.fixed_dictionaries(GOOD_ESTIMATE),
    bad_key=st.none() | st.sampled_from(sorted(GOOD_ESTIMATE)),
    bad_value=nasty_number | junk_name,
    ranges=st.booleans(),
    overrides=st.lists(override, max_size=2).map(dict),
)
def test_estimate_fuzz(good, bad_key, bad_value, ranges, overrides):
    """Good arguments with at most one nasty one (plus possibly nasty overrides)."""
    kwargs = dict(good, **({} if bad_key is None else {bad_key: bad_value}))
    e = check(
        lambda: iw.estimate(
            kwargs.pop("model"), kwargs.pop("chip"), ranges=ranges, **kwargs, **overrides
        )
    )
    if e is not None:
        check_estimate(e)


GOOD_SWEEP = dict(
    model=st.lists(models, min_size=1, max_size=2, unique=True),
    chip=st.lists(chips, min_size=1, max_size=3, unique=True),
    batch=st.lists(st.integers(1, 2048), min_size=1, max_size=3),
    input_tokens=st.sampled_from([128, [256, 8192]]),
    n_chips=st.none() | st.lists(st.integers(1, 128), min_size=1, max_size=2),
    scenario=st.lists(scenarios, min_size=1, max_size=3, unique=True),
)


@FUZZ
@given(
    good=st.fixed_dictionaries(GOOD_SWEEP),
    bad_key=st.none() | st.sampled_from(sorted(GOOD_SWEEP)),
    bad_value=nasty_number | junk_name | st.lists(nasty_number | junk_name, max_size=3),
    drop_unfit=st.booleans(),
)
def test_sweep_fuzz(good, bad_key, bad_value, drop_unfit):
    """Lists of good values with at most one nasty argument; rows that do not fit carry no metrics."""
    kwargs = dict(good, **({} if bad_key is None else {bad_key: bad_value}))
    df = check(lambda: iw.sweep(drop_unfit=drop_unfit, **kwargs))
    if df is not None and drop_unfit:
        assert df["fits"].all()


cli_token = st.sampled_from(
    [
        "estimate",
        "compare",
        "chips",
        "models",
        "-m",
        M,
        "-c",
        C,
        "--chips",
        "h100-sxm,b200",
        "-b",
        "-n",
        "--batch",
        "--scenario",
        "pessimistic",
        "--json",
        "--ranges",
        "--tp",
        "--pp",
        "--objective",
        "latency",
        "8",
        "0",
        "-3",
        "1e300",
        "9223372036854775808",
        "nan",
        "abc",
        "--",
        "-",
        "--help-me",
    ]
)


@settings(FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=st.lists(cli_token, max_size=8))
def test_cli_fuzz(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc in (0, 2), (argv, rc)
    if rc == 2:
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    else:
        assert err == "" and out


module_call = st.one_of(
    st.tuples(st.just(hardwired.tapeout_usd), st.tuples(nasty_number)),
    st.tuples(
        st.just(hardwired.zipf_shares),
        st.tuples(maybe(st.integers(1, 50), nasty_number), nasty_number),
    ),
    st.tuples(
        st.just(hardwired.break_even_months),
        st.tuples(*[maybe(st.floats(0.01, 1e6), nasty_number)] * 6),
    ),
    st.tuples(
        st.just(hardwired.lifetime_costs),
        st.tuples(*[maybe(st.floats(0.01, 1e6), nasty_number)] * 7),
    ),
    st.tuples(st.just(fleet.demand_in_chips), st.tuples(nasty_number, nasty_number)),
    st.tuples(
        st.just(fleet.shifting_demand),
        st.tuples(
            maybe(st.integers(1, 20), nasty_number),
            maybe(st.integers(1, 48), nasty_number),
            nasty_number,
        ),
    ),
    st.tuples(
        st.just(systolic.systolic_utilization),
        st.tuples(
            *[maybe(st.integers(1, 8192), nasty_number)] * 3,
            st.just(128),
            st.just(128),
            maybe(st.sampled_from([1, 2, 4, 8]), nasty_number),
        ),
    ),
    st.tuples(st.just(economics.cost_ratio), st.tuples(nasty_number, nasty_number)),
    st.tuples(
        st.just(fmts.bits_per_weight),
        st.tuples(
            maybe(st.sampled_from(catalog.format_ids()), junk_name), maybe(scenarios, junk_name)
        ),
    ),
    st.tuples(
        st.just(hardwired.pipeline_tokens_per_s_per_user),
        st.tuples(
            maybe(st.floats(1e6, 1e12), nasty_number), maybe(st.integers(1, 64), nasty_number)
        ),
    ),
)


@FUZZ
@given(call=module_call)
def test_chapter_module_fuzz(call):
    fn, args = call
    check(
        lambda: fn(*args),
        allow_inf=("break_even", "result") if fn is hardwired.break_even_months else (),
        allow_negative=("saving_usd",),
    )


def test_fuzz_size_is_reported():
    # the closing note of issue 15 quotes this count
    assert N_TRIED >= 300, N_TRIED
