"""Properties that must hold for any configuration (hypothesis)."""

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import factors, hardware, serving, workload

CHIPS = iw.chip_ids()
MODELS = [m for m in iw.model_ids()]
settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")

batches = st.integers(min_value=1, max_value=4096)
prompts = st.integers(min_value=1, max_value=32_768)
outputs = st.integers(min_value=1, max_value=8192)


def run(model, chip, fmt, n, batch, s, o, **hw_changes):
    hw = hardware.hardware_arrays([(chip, fmt)])
    hw = dataclasses.replace(hw, **{k: getattr(hw, k) * v for k, v in hw_changes.items()})
    m = workload.model_arrays([model])
    f = factors.factor_arrays([chip])
    return serving.evaluate(
        m, hw, f, serving.single_instance(m, hw, float(n)), batch, s, o, 8.0, 8.0
    )


@given(
    batch=batches,
    s=prompts,
    o=outputs,
    factor=st.floats(1.0, 10.0),
    model=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-r1"]),
    chip=st.sampled_from(["h100-sxm", "b200", "mi300x", "tpu-v6e"]),
)
def test_more_bandwidth_never_slows_decode(batch, s, o, factor, model, chip):
    base = run(model, chip, "fp8", 8, batch, s, o)
    fast = run(model, chip, "fp8", 8, batch, s, o, hbm_tb_s=factor)
    assert fast["tpot_s"][0] <= base["tpot_s"][0] * (1 + 1e-12)
    assert fast["ttft_s"][0] <= base["ttft_s"][0] * (1 + 1e-12)


@given(
    c=st.integers(1, 60_000),
    k=st.integers(2, 8),
    model=st.sampled_from(["llama-3.1-70b", "deepseek-r1", "qwen3-235b-a22b"]),
)
def test_kv_grows_linearly_with_context(c, k, model):
    m = workload.model_arrays([model])
    one = workload.kv_bytes_per_sequence(m, c, 16)[0]
    assert workload.kv_bytes_per_sequence(m, k * c, 16)[0] == np.float64(one * k) or np.isclose(
        workload.kv_bytes_per_sequence(m, k * c, 16)[0], k * one, rtol=1e-12
    )


@given(c=st.integers(1, 100_000), extra=st.integers(1, 10_000))
def test_sliding_window_kv_never_shrinks(c, extra):
    m = workload.model_arrays(["gpt-oss-120b"])
    assert (
        workload.kv_bytes_per_sequence(m, c + extra, 16)[0]
        >= workload.kv_bytes_per_sequence(m, c, 16)[0]
    )


@given(u1=st.floats(0.05, 1.0), u2=st.floats(0.05, 1.0), chip=st.sampled_from(CHIPS))
def test_cost_per_token_falls_as_utilisation_rises(u1, u2, chip):
    lo, hi = sorted((u1, u2))
    model = iw.get_chip(chip).hardwired_model or "llama-3.1-8b"
    a = iw.estimate(model, chip, utilization=lo).usd_per_million_tokens
    b = iw.estimate(model, chip, utilization=hi).usd_per_million_tokens
    assert b <= a


@settings(max_examples=15)
@given(
    chips=st.lists(st.sampled_from(CHIPS), min_size=1, max_size=5, unique=True),
    models=st.lists(st.sampled_from(MODELS), min_size=1, max_size=3, unique=True),
    batch=st.lists(batches, min_size=1, max_size=3, unique=True),
    s=st.lists(prompts, min_size=1, max_size=2, unique=True),
    precision=st.lists(
        st.sampled_from([None, "bf16", "fp8", "nvfp4", "int8"]), min_size=1, max_size=2, unique=True
    ),
    scenario=st.sampled_from(["base", "optimistic", "pessimistic"]),
)
def test_no_nan_or_inf_anywhere_in_a_sweep(chips, models, batch, s, precision, scenario):
    try:
        df = iw.sweep(
            models,
            chips,
            batch=batch,
            input_tokens=s,
            output_tokens=256,
            precision=precision,
            scenario=scenario,
        )
    except ValueError:
        return  # nothing valid in this draw (e.g. only hard-wired chips with other models): a clear error
    numeric = df.select_dtypes("number")
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()
    assert (df["tokens_per_s"] > 0).all() and (df["usd_per_million_tokens"] > 0).all()
    assert df["fits"].all()
    assert (df["tokens_per_s_per_user"] * df["batch"] >= df["tokens_per_s"] * (1 - 1e-9)).all()


@given(batch=batches, chip=st.sampled_from(["h100-sxm", "b200", "gb200-nvl72", "mi355x"]))
def test_batching_trades_per_user_speed_for_throughput(batch, chip):
    one = iw.estimate("llama-3.1-70b", chip, n_chips=8, batch=1, precision="fp8")
    many = iw.estimate("llama-3.1-70b", chip, n_chips=8, batch=batch, precision="fp8")
    if many.fits:
        assert many.tokens_per_s_per_user <= one.tokens_per_s_per_user * (1 + 1e-9)
        assert many.tokens_per_s >= one.tokens_per_s * (1 - 1e-9)


@given(
    model=st.sampled_from(MODELS),
    chip=st.sampled_from(CHIPS),
    batch=st.one_of(st.none(), st.integers(1, 2048)),
    s=st.integers(1, 16_384),
    o=st.integers(1, 4096),
    n=st.one_of(st.none(), st.integers(1, 144)),
    target=st.one_of(st.none(), st.floats(5.0, 500.0)),
)
def test_scenario_readings_are_ordered(model, chip, batch, s, o, n, target):
    """A reading changes the numbers, not the decisions: chips, split and batch are chosen at the
    base reading, so optimistic >= base >= pessimistic in speed and the reverse in cost (a reading
    under which the base deployment no longer fits says so instead of choosing another)."""
    try:
        df = iw.sweep(
            model,
            chip,
            batch=batch,
            input_tokens=s,
            output_tokens=o,
            n_chips=n,
            scenario=["optimistic", "base", "pessimistic"],
            min_tokens_per_s_per_user=target,
            drop_unfit=False,
        )
    except ValueError:  # e.g. a hard-wired chip asked for another model: a clear refusal
        return
    rows = df.set_index("scenario")
    fit = rows[rows["fits"]]
    for a, b in (("optimistic", "base"), ("base", "pessimistic"), ("optimistic", "pessimistic")):
        if a not in fit.index or b not in fit.index:
            continue
        assert (
            fit.loc[a, "n_chips"] == fit.loc[b, "n_chips"] and fit.loc[a, "tp"] == fit.loc[b, "tp"]
        )
        for speed in ("tokens_per_s_per_user", "tokens_per_s_per_chip"):
            assert fit.loc[a, speed] >= fit.loc[b, speed] * (1 - 1e-9), (speed, a, b)
        assert fit.loc[a, "ttft_s"] <= fit.loc[b, "ttft_s"] * (1 + 1e-9)
        assert fit.loc[a, "usd_per_million_tokens"] <= fit.loc[b, "usd_per_million_tokens"] * (
            1 + 1e-9
        )
