"""Prompts queueing for prefill under random arrivals (engine.queueing, serving.poisson_load_cap)."""

import re

import numpy as np
import pytest

import inference_wars as iw
from inference_wars.engine import queueing
from inference_wars.evidence import validation


def _simulated_waits(load: float, n: int = 200_000, seed: int = 1) -> np.ndarray:
    """Waits in an M/D/1 queue with service 1 (Lindley's recursion), the first tenth dropped."""
    gaps = np.random.default_rng(seed).exponential(1.0 / load, n)
    w, waits = 0.0, np.empty(n)
    for i in range(n):
        waits[i] = w
        w = max(0.0, w + 1.0 - gaps[i])
    return waits[n // 10 :]


def _simulated_wait_quantile(load: float, q: float) -> float:
    return float(np.quantile(_simulated_waits(load), q))


@pytest.mark.parametrize("load", [0.3, 0.6, 0.85])
def test_tail_wait_matches_a_simulated_queue(load):
    formula = float(queueing.wait_quantile_s(load, 1.0, 0.99))
    assert formula == pytest.approx(_simulated_wait_quantile(load, 0.99), rel=0.06)


@pytest.mark.parametrize("load", [0.3, 0.85])
def test_mean_wait_matches_a_simulated_queue(load):
    assert float(queueing.mean_wait_s(load, 1.0)) == pytest.approx(
        _simulated_waits(load).mean(), rel=0.08
    )
    assert float(queueing.mean_wait_s(1.0, 1.0)) == np.inf


def test_mean_wait_at_the_load_cap_is_inside_the_tail_budget():
    """At the load a 99th-percentile budget allows, the mean wait is positive and well inside
    the budget: the prefill queue of every arrangement is read back at its own load."""
    from inference_wars.engine import serving

    prefill_s, s, O, budget = 0.5, 0.01, 300.0, 3.0
    for dis, pool in ((False, np.nan), (True, np.nan), (True, 2.0)):
        cap = serving.poisson_load_cap(budget, 0.99, prefill_s, s, O, 4.0, pool, dis)
        wait = serving.poisson_mean_wait_s(cap, prefill_s, s, O, 4.0, pool, dis)
        assert 0.0 < wait < budget / 2, (dis, pool)
        # less traffic, shorter waits
        assert serving.poisson_mean_wait_s(cap / 2, prefill_s, s, O, 4.0, pool, dis) < wait


def test_max_load_inverts_the_tail_wait():
    loads = np.array([0.05, 0.4, 0.7, 0.95])
    budget = queueing.wait_quantile_s(loads, 2.0, 0.99)
    assert queueing.max_load(budget, 2.0, 0.99) == pytest.approx(loads, abs=1e-3)
    assert float(queueing.max_load(-1.0, 1.0, 0.99)) == 0.0
    assert float(queueing.max_load(np.inf, 1.0, 0.99)) == 1.0
    # a service that slows as the load rises allows less load
    assert queueing.max_load(5.0, 1.0, 0.99, 0.5) < queueing.max_load(5.0, 1.0, 0.99)


def _server(**kw):
    """Llama 3.1 405B on 8 x H200 as MLPerf's server scenario runs it (TTFT limit 6 s at p99)."""
    args = dict(
        n_chips=8,
        batch=None,
        input_tokens=9429,
        output_tokens=685,
        precision="fp8",
        min_tokens_per_s_per_user=5.714,
        max_ttft_s=6.0,
    )
    args.update(kw)
    return iw.estimate("llama-3.1-405b", "h200", **args)


def test_a_tail_target_costs_throughput_and_a_looser_one_costs_less():
    capacity = _server().tokens_per_s
    p99 = _server(ttft_quantile=0.99).tokens_per_s
    p90 = _server(ttft_quantile=0.9).tokens_per_s
    loose = _server(ttft_quantile=0.99, max_ttft_s=30.0).tokens_per_s
    assert p99 < p90 < capacity
    assert p99 < loose <= capacity
    # long prompts make this a prefill machine: the queue keeps it well below capacity
    assert p99 < 0.8 * capacity


def test_every_prefill_arrangement_queues():
    """Chunked prefill, a balanced disaggregated pool and a fixed pool of 8 of 16 chips each
    lose throughput to a 99th-percentile target, and a fixed pool keeps its 8 chips."""
    for kw in (
        dict(),
        dict(disaggregated=True),
        dict(disaggregated=True, n_chips=16, prefill_chips=8),
    ):
        free = _server(**kw)
        tail = _server(ttft_quantile=0.99, **kw)
        assert tail.tokens_per_s < free.tokens_per_s, kw
        assert tail.n_chips == free.n_chips


def test_short_prompts_barely_feel_the_queue():
    """Llama 2 70B's 222-token prompts under a 2 s p99 limit: the queue costs a few per cent."""
    args = dict(
        n_chips=8,
        batch=None,
        input_tokens=222,
        output_tokens=294,
        precision="fp8",
        min_tokens_per_s_per_user=5.0,
        max_ttft_s=2.0,
    )
    free = iw.estimate("llama-2-70b", "h200", **args).tokens_per_s
    tail = iw.estimate("llama-2-70b", "h200", ttft_quantile=0.99, **args).tokens_per_s
    assert 0.85 * free < tail <= free


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(ttft_quantile=0.99), "needs max_ttft_s"),
        (dict(max_ttft_s=1.0, ttft_quantile=99), "between 0 and 1"),
        (dict(max_ttft_s=1.0, ttft_quantile=0.0), "between 0 and 1"),
    ],
)
def test_bad_quantiles_say_why(kw, words):
    with pytest.raises(ValueError, match=words):
        iw.estimate("llama-3.1-70b", "h100-sxm", **kw)


def test_mlperf_rows_carry_the_ttft_limit_their_note_states():
    df = validation.measured()
    rows = df[df["source_family"] == "mlperf"]
    seen = 0
    for note, p99 in zip(rows["note"], rows["p99_ttft_s"]):
        m = re.search(r"Latency limits TTFT ([0-9.]+) (m?s)", note, re.IGNORECASE)
        if m is None:
            assert np.isnan(p99)
            continue
        seen += 1
        limit = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        assert p99 == pytest.approx(limit)
    assert seen >= 20


def test_the_cli_takes_a_tail_ttft_target(capsys):
    import json

    from inference_wars.cli import main

    args = ["estimate", "-m", "llama-3.1-405b", "-c", "h200", "--n-chips", "8", "--batch-max"]
    args += ["--input-tokens", "9429", "--output-tokens", "685", "--precision", "fp8", "--json"]
    args += ["--min-tokens-per-s-per-user", "5.714", "--max-ttft-s", "6"]
    assert main(args) == 0
    free = json.loads(capsys.readouterr().out)["tokens_per_s"]
    assert main(args + ["--ttft-quantile", "0.99"]) == 0
    tail = json.loads(capsys.readouterr().out)["tokens_per_s"]
    assert tail == pytest.approx(_server(ttft_quantile=0.99).tokens_per_s) and tail < free
    assert (
        main(["estimate", "-m", "llama-3.1-70b", "-c", "h100-sxm", "--ttft-quantile", "0.9"]) == 2
    )
    assert "needs max_ttft_s" in capsys.readouterr().err
