"""Hand-checked numbers for the performance and cost model."""

import numpy as np
import pytest

import inference_wars as iw
from inference_wars import economics, parallel, roofline, serving, workload
from inference_wars.engine.hardware import hardware_arrays
from inference_wars.engine.memory import round_chip_count


def arrays(model):
    return workload.model_arrays([model])


def test_kv_bytes_per_token_llama_3_1_70b_bf16():
    # 2 (K and V) * 8 KV heads * 128 dims * 80 layers * 2 bytes = 327,680 bytes = 320 KiB
    assert workload.kv_bytes_per_sequence(arrays("llama-3.1-70b"), 1, 16)[0] == 327_680


def test_kv_bytes_per_token_deepseek_mla_fp8():
    # MLA caches one 512-dim latent plus a 64-dim rope key per layer: 576 * 61 layers * 1 byte
    assert workload.kv_bytes_per_sequence(arrays("deepseek-r1"), 1, 8)[0] == 576 * 61


def test_sliding_window_caps_kv_growth():
    m = arrays("gpt-oss-120b")
    short = workload.kv_bytes_per_sequence(m, 128, 16)[0]
    long = workload.kv_bytes_per_sequence(m, 128 * 100, 16)[0]
    # half the layers stop growing after 128 tokens, so 100x context gives ~50x KV, not 100x
    assert long / short == pytest.approx((18 * 12800 + 18 * 128) / (36 * 128))


def test_batch_1_decode_of_llama_8b_on_h100_is_bandwidth_bound():
    h100 = iw.get_chip("h100-sxm")
    bw = h100.get("hbm_tb_s")
    weights = workload.weights_bytes(arrays("llama-3.1-8b"), 16)[0]
    bound = roofline.decode_tokens_per_s_upper_bound(weights, bw)
    assert bound == pytest.approx(3.35e12 / 16.06e9, rel=0.01)  # ~208 tokens/s
    e = iw.estimate(
        "llama-3.1-8b",
        "h100-sxm",
        batch=1,
        input_tokens=1,
        output_tokens=1,
        memory_efficiency=1.0,
        compute_efficiency=1.0,
        layer_overhead_us=0,
        overlap_exponent=8.0,  # maths hidden under the reads, as the roofline's max(c, m)
    )
    assert e.bound == "memory"
    # decode reads every weight except the input-embedding table (one row is looked up):
    # (8.03e9 - 128256 * 4096) params * 2 bytes = 15.01 GB -> 3.35e12 / 15.01e9 = 223 tokens/s
    read = (8.03e9 - 128256 * 4096) * 2
    assert e.tokens_per_s_per_user == pytest.approx(3.35e12 / read, rel=0.005)
    realistic = iw.estimate("llama-3.1-8b", "h100-sxm")
    assert realistic.tokens_per_s_per_user < bound < 3.35e12 / read


def test_ridge_point_h100_bf16():
    assert roofline.ridge_point(989, 3.35) == pytest.approx(295, rel=0.01)


def test_expected_experts_touched():
    m = arrays("deepseek-r1")
    assert workload.expected_experts_touched(m, 1)[0] == pytest.approx(8)
    assert workload.expected_experts_touched(m, 10_000)[0] == pytest.approx(256)
    assert workload.expected_experts_touched(arrays("llama-3.1-8b"), 64)[0] == 0


def test_decode_flops_are_twice_the_active_params_at_zero_context():
    m = arrays("mixtral-8x7b")
    assert workload.decode_flops_per_token(m, 0)[0] == pytest.approx(2 * m.params_matmul[0])


def test_cost_formula_by_hand():
    # $30k over 5 years at full utilisation: 30000 / (5 * 8766) = 0.6845 $/h, plus 1 kW * $0.1 = 0.1 $/h
    hourly = economics.usd_per_chip_hour(30_000, 1000, 5, 1.0, 1.0, 0.1)
    assert hourly == pytest.approx(0.78446, rel=1e-4)
    assert economics.usd_per_million_tokens(
        1, 1000, 30_000, 1000, 5, 1.0, 1.0, 0.1
    ) == pytest.approx(hourly / 3.6)
    assert economics.joules_per_token(2, 100, 500) == 10


def test_tensor_parallel_costs_nothing_on_one_chip_and_something_on_eight():
    m = arrays("llama-3.1-70b")
    args = dict(
        tokens=1,
        m=m,
        dp_attention=False,
        domain=8,
        scaleup_gb_s=900,
        scaleout_gb_s=50,
        latency_s=10e-6,
        activation_bytes=2,
        interconnect_efficiency=1.0,
    )
    assert parallel.stage_collectives_s(t=1, **args)[0] == 0
    # 160 all-reduces of 10 us latency dominate a batch-1 step
    assert parallel.stage_collectives_s(t=8, **args)[0] == pytest.approx(
        160 * (10e-6 + 2 * 7 / 8 * 8192 * 2 / 450e9)
    )


def test_wide_expert_parallelism_beyond_the_server_uses_the_nics():
    m = arrays("deepseek-r1")
    args = dict(
        tokens=256,
        m=m,
        dp_attention=True,
        scaleup_gb_s=900,
        scaleout_gb_s=50,
        latency_s=0.0,
        activation_bytes=2,
        interconnect_efficiency=1.0,
    )
    inside = parallel.stage_collectives_s(t=8, domain=8, **args)[0]
    across = parallel.stage_collectives_s(t=32, domain=8, **args)[0]
    rack = parallel.stage_collectives_s(t=32, domain=72, **args)[0]
    assert rack < across and inside < across
    # 3/4 of a 32-wide group's all-to-all leaves an 8-GPU server at 50 GB/s
    vol = 256 / 32 * 8 * 7168 * 2
    assert across == pytest.approx(
        58 * 2 * (31 / 32) * vol * 0.75 / 50e9
        + 3 * 2 * 2 * (31 / 32) * 256 * 7168 * 2 * 0.75 / 50e9
    )


def test_single_instance_split_and_rounding():
    hw = hardware_arrays([("h100-sxm", "bf16")] * 3 + [("gb200-nvl72", "bf16")])
    m = workload.model_arrays(["llama-3.1-70b"] * 4)
    d = serving.single_instance(m, hw, np.array([4, 8, 16, 576]))
    assert (
        d.tp.tolist() == [4, 8, 8, 72]
        and d.pp.tolist() == [1, 1, 2, 8]
        and d.replicas.tolist() == [1] * 4
    )
    assert round_chip_count(np.array([1, 3, 5, 9, 17.2])).tolist() == [1, 4, 8, 16, 24]


@pytest.mark.parametrize(
    "model, chip, n, batch",
    [
        ("llama-3.1-8b", "h100-sxm", 8, 256),
        ("llama-3.1-70b", "h200", 8, 64),
        ("deepseek-r1", "gb200-nvl72", 72, 2048),
        ("mixtral-8x7b", "b200", 8, None),
    ],
)
def test_the_chosen_deployment_beats_every_pinned_one(model, chip, n, batch):
    e = iw.estimate(model, chip, n_chips=n, batch=batch, precision="fp8")
    assert e.fits and e.replicas * e.tp * e.pp <= n
    for tp in (1, 2, 4, 8):
        for dpa in (False, True) if iw.get_model(model).n_experts else (False,):
            p = iw.estimate(
                model, chip, n_chips=n, batch=batch, precision="fp8", tp=tp, attention_dp=dpa
            )
            if p.fits:
                assert e.tokens_per_s_per_chip >= p.tokens_per_s_per_chip * (1 - 1e-9)
    fast = iw.estimate(model, chip, n_chips=n, batch=batch, precision="fp8", objective="latency")
    assert fast.tokens_per_s_per_user >= e.tokens_per_s_per_user * (1 - 1e-9)


def test_a_server_runs_many_copies_when_the_batch_is_large():
    e = iw.estimate(
        "llama-3.1-8b",
        "h100-sxm",
        n_chips=8,
        batch=None,
        precision="fp8",
        input_tokens=8192,
        output_tokens=1024,
    )
    assert e.replicas > 1 and e.batch_per_instance > 1


def test_pinned_splits_that_cannot_work_name_the_constraint():
    with pytest.raises(
        ValueError, match="does not divide .* 64 attention heads; nearest valid tp is 8"
    ):
        iw.estimate("llama-3.1-70b", "h100-sxm", n_chips=8, tp=6)
    with pytest.raises(ValueError, match="exceeds deepseek-r1's 256 experts"):
        iw.estimate("deepseek-r1", "gb200-nvl72", n_chips=512, ep=512)
    with pytest.raises(
        ValueError, match="exceeds n_chips=8; with this tp and pp at most replicas=2"
    ):
        iw.estimate("llama-3.1-8b", "h100-sxm", n_chips=8, tp=4, replicas=3)
    with pytest.raises(ValueError, match="is dense"):
        iw.estimate("llama-3.1-8b", "h100-sxm", n_chips=8, ep=8)
    with pytest.raises(ValueError, match="ep must divide tp"):
        iw.estimate("deepseek-r1", "h200", n_chips=8, tp=8, ep=3, precision="fp8")


def test_experts_split_over_every_chip_load_them_alike():
    """ep=1 under tp=8 (SGLang's and vLLM's TP-only MoE): no chip waits for a busier one, so a
    memory-bound step is faster than whole experts spread over eight chips; the split is shown."""
    from inference_wars.engine import serving
    from inference_wars.engine.factors import factor_arrays
    from inference_wars.engine.workload import model_arrays

    kw = dict(n_chips=8, batch=64, tp=8, precision="fp8", input_tokens=1000, output_tokens=1000)
    whole = iw.estimate("deepseek-r1", "h200", **kw)
    split = iw.estimate("deepseek-r1", "h200", ep=1, **kw)
    assert whole.deployment == "1 x (TP8/EP8 x PP1)" and split.deployment == "1 x (TP8/EP1 x PP1)"
    assert split.tokens_per_s > whole.tokens_per_s
    m, f = model_arrays(["deepseek-r1"] * 3), factor_arrays(["h200"] * 3)
    dep = serving.Deployment(
        *(np.full(3, 8.0),) * 3, np.zeros(3, bool), np.array([np.nan, 1.0, 2.0])
    )
    imbalance, shards = serving.expert_layout(m, f, dep, dep.tp)
    assert shards.tolist() == [1.0, 8.0, 4.0]
    assert imbalance[1] == 1.0 < imbalance[0] == imbalance[2] == f.expert_imbalance[0]


def test_speculative_decoding_and_disaggregation_change_what_users_see():
    kw = dict(n_chips=8, batch=64, precision="fp8", input_tokens=4096, output_tokens=512)
    base = iw.estimate("deepseek-r1", "b200", **kw)
    mtp = iw.estimate("deepseek-r1", "b200", mtp_tokens=3, **kw)
    dis = iw.estimate("deepseek-r1", "b200", disaggregated=True, **kw)
    assert mtp.tokens_per_s_per_user > 1.5 * base.tokens_per_s_per_user
    assert dis.tokens_per_s_per_user > base.tokens_per_s_per_user  # no prefill interruptions
    assert dis.tokens_per_s == pytest.approx(
        base.tokens_per_s, rel=1e-9
    )  # the same chips do the same work
    assert serving.tokens_per_step(3, 0.8) == pytest.approx(1 + 0.8 + 0.64 + 0.512)


def test_fewest_chips_for_llama_70b_bf16_on_h100_is_two():
    e = iw.estimate("llama-3.1-70b", "h100-sxm")
    assert e.fits and e.n_chips == 2 and e.weights_gb == pytest.approx(141.1, abs=0.1)


def test_a_model_that_does_not_fit_says_what_would():
    e = iw.estimate("llama-3.1-405b", "h100-sxm", n_chips=2)
    assert not e.fits and e.tokens_per_s is None
    assert e.n_chips_needed >= 12 and "n_chips >= " in e.reason


def test_moe_decode_reads_fewer_weights_at_batch_1():
    dense = iw.estimate("llama-3.1-70b", "b200", precision="fp8")
    moe = iw.estimate("gpt-oss-120b", "b200", precision="fp8")
    # 5B active of 117B against 70B dense: far fewer bytes per token, though each MoE layer has fixed costs
    assert moe.tokens_per_s_per_user > 2 * dense.tokens_per_s_per_user


def test_large_batch_prefill_heavy_work_becomes_compute_bound():
    e = iw.estimate(
        "llama-3.1-8b", "h100-sxm", batch=512, input_tokens=128, output_tokens=16, precision="fp8"
    )
    assert e.bound == "compute"


def test_pipeline_parallel_does_not_reduce_latency():
    # same domain, 8 vs 16 chips (second adds a pipeline stage): per-user speed must not improve
    a = iw.estimate("llama-3.1-405b", "h200", n_chips=8, precision="fp8", objective="latency")
    b = iw.estimate("llama-3.1-405b", "h200", n_chips=16, precision="fp8", tp=8, pp=2)
    assert a.pp == 1 and b.pp == 2 and b.tokens_per_s_per_user <= a.tokens_per_s_per_user
    # left free, 16 GPUs serve as two 8-GPU copies rather than one 2-stage pipeline
    assert iw.estimate("llama-3.1-405b", "h200", n_chips=16, batch=2, precision="fp8").replicas == 2


def test_hardwired_chip_runs_only_its_model_and_replicates():
    e = iw.estimate("llama-3.1-8b", "taalas-hc1", batch=1)
    assert e.fits and e.n_chips == 1 and e.precision == "taalas-3b6b"
    more = iw.estimate("llama-3.1-8b", "taalas-hc1", batch=4, n_chips=4)
    assert more.replicas == 4 and more.tokens_per_s == pytest.approx(4 * e.tokens_per_s, rel=0.05)


def test_sweep_matches_estimate():
    df = iw.sweep(
        model=["llama-3.1-8b", "llama-3.1-70b"],
        chip=["h100-sxm", "b200"],
        batch=[1, 16],
        input_tokens=[512, 2048],
        precision=["bf16", "fp8"],
    )
    assert len(df) == 2 * 2 * 2 * 2 * 2
    row = df.query(
        "model == 'llama-3.1-70b' and chip == 'b200' and batch == 16 and input_tokens == 2048 and precision == 'fp8'"
    ).iloc[0]
    e = iw.estimate("llama-3.1-70b", "b200", batch=16, input_tokens=2048, precision="fp8")
    for k in (
        "n_chips",
        "ttft_s",
        "tpot_s",
        "tokens_per_s",
        "usd_per_million_tokens",
        "joules_per_token",
    ):
        assert row[k] == pytest.approx(getattr(e, k))
    assert row["bound"] == e.bound


def test_sweep_of_one_configuration_per_model_names_each_model():
    # one chip, one of everything else: each model is a one-row block of its own
    models = ["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b"]
    df = iw.sweep(models, "h100-sxm")
    assert df["model"].tolist() == models
    for model, row in zip(models, df.itertuples()):
        assert row.tokens_per_s == pytest.approx(iw.estimate(model, "h100-sxm").tokens_per_s)


def test_scenarios_bracket_the_base_for_estimated_chips():
    df = iw.sweep(
        "llama-3.1-70b",
        "vera-rubin-nvl72",
        batch=64,
        precision="nvfp4",
        n_chips=8,
        scenario=["pessimistic", "base", "optimistic"],
    ).set_index("scenario")
    cost = df["usd_per_million_tokens"]
    assert cost["optimistic"] < cost["base"] < cost["pessimistic"]


def test_agentic_chain_by_hand():
    from inference_wars import agentic

    t = agentic.chain_totals(
        steps=3, prompt_tokens=1000, output_per_step=100, tool_tokens_per_step=400
    )
    # inputs 1000, 1500, 2000 -> 4500 prefill + 300 output = 4800, vs 1100 for one call
    assert t["prefill_tokens"] == 4500 and t["tokens_processed"] == 4800
    assert t["multiplier_vs_single_call"] == pytest.approx(4800 / 1100)
    cached = agentic.chain_totals(3, 1000, 100, 400, prefix_cache_hit_rate=1.0)
    assert cached["prefill_tokens"] == 1000 + 500 + 500
    with pytest.raises(ValueError, match="prefix_cache_hit_rate"):
        agentic.chain_totals(3, 1000, 100, 400, prefix_cache_hit_rate=1.5)


def test_max_concurrent_sequences_by_hand():
    # 8 x 80 GiB x 0.9 usable = 618.5 GB (an "80 GB" H100 holds 80 * 2**30 bytes); Llama 3.1 70B
    # fp8 weights 70.55 GB; KV fp8 at 32k = 163,840 * 32768 B = 5.37 GB
    n = iw.max_concurrent_sequences("llama-3.1-70b", "h100-sxm", 8, 32_768, precision="fp8")
    assert n == 102  # (618.5 - 70.55) GB // 5.37 GB
    assert iw.max_concurrent_sequences("llama-3.1-405b", "h100-sxm", 1, 1024) == 0


def test_a_running_batch_holds_half_its_answers_kv_on_average():
    m = arrays("llama-3.1-70b")
    one = workload.kv_bytes_per_sequence(m, 1, 16)[0]
    # batch 1 holds the whole sequence at its longest; a batch of 100 holds S + O/2 each, plus O/2
    assert workload.kv_bytes_held(m, 1, 1000, 2000, 16)[0] == pytest.approx(3000 * one)
    assert workload.kv_bytes_held(m, 100, 1000, 2000, 16)[0] == pytest.approx(
        (100 * 2000 + 1000) * one
    )


def test_4bit_moe_checkpoints_keep_attention_in_bf16():
    moe, dense = arrays("deepseek-r1"), arrays("llama-3.1-70b")
    w4 = workload.weights_bytes(moe, 4.5)[0]
    # experts and dense FFN at 4.5 bits, attention at 16
    expect = ((moe.params_total - moe.params_attention) * 4.5 + moe.params_attention * 16) / 8
    assert w4 == pytest.approx(expect[0])
    assert workload.weights_bytes(dense, 4.5)[0] == pytest.approx(dense.params_total[0] * 4.5 / 8)


def test_small_experts_run_their_matmuls_less_efficiently():
    f = iw.factors.factor_arrays(["h100-sxm"] * 3)
    eff = serving.expert_efficiency(
        workload.model_arrays(["qwen3-235b-a22b", "deepseek-r1", "mixtral-8x7b"]), f
    )
    assert eff[0] < eff[1] < eff[2] <= f.moe_efficiency[2]
    assert serving.expert_efficiency(arrays("llama-3.1-70b"), f)[0] == f.moe_efficiency[0]


def test_tensor_parallelism_shrinks_each_chips_gemms():
    f = iw.factors.factor_arrays(["h100-sxm"] * 3)
    tp = np.array([1.0, 2.0, 8.0])
    eff = serving.dense_efficiency(workload.model_arrays(["llama-3.1-70b"] * 3), f, tp, 1.0 / tp)
    assert 1.0 > eff[0] > eff[1] > eff[2] > 0.0
    # DP attention keeps attention weights whole on every chip: larger GEMMs than under TP
    ds = workload.model_arrays(["deepseek-r1"] * 2)
    f2 = iw.factors.factor_arrays(["h100-sxm"] * 2)
    whole, split = serving.dense_efficiency(ds, f2, 8.0, np.array([1.0, 1.0 / 8.0]))
    assert whole > split
    # so the same decode maths costs more chip-seconds at TP8 than at TP1
    m, hw = arrays("llama-3.1-70b"), hardware_arrays([("h100-sxm", "fp8")])
    f1 = iw.factors.factor_arrays(["h100-sxm"])
    chip_s = []
    for t in (1.0, 8.0):
        dense_eff = serving.dense_efficiency(m, f1, t, 1.0 / t)
        chip_s.append(t * sum(serving.compute_parts_s(m, hw, f1, 512, 1000, t, 1.0, dense_eff))[0])
    assert chip_s[1] > 1.3 * chip_s[0]


def test_maths_and_reads_overlap_between_the_roofline_and_their_sum():
    c, mem = np.array([1.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.25, 1.0, 2.0])
    times = {p: serving.overlapped_s(c, mem, p) for p in (1.0, 2.0, 1000.0)}
    assert np.allclose(times[1.0], c + mem)  # no overlap
    assert np.allclose(times[1000.0], np.maximum(c, mem), rtol=1e-3)  # the roofline
    # in between, the loss is largest at the ridge (maths = reads) and nothing when one is zero
    loss = times[2.0] / np.maximum(c, mem)
    assert loss[2] == pytest.approx(2**0.5) and loss[0] == loss[3] == 1.0
    assert 1.0 < loss[1] < loss[2]
    # the shipped fit lies between no overlap and nearly the roofline, and a decode step that
    # sits near its ridge pays for it
    p_fit = float(iw.factors.factor_arrays(["h100-sxm"]).overlap_exponent[0])
    assert 1.0 <= p_fit <= 8.0
    base = iw.estimate("llama-3.1-70b", "h100-sxm", n_chips=8, batch=64)
    roof = iw.estimate("llama-3.1-70b", "h100-sxm", n_chips=8, batch=64, overlap_exponent=1000)
    assert base.tokens_per_s < roof.tokens_per_s
    # a fixed datapath streams its weights into the multipliers as it computes: no such loss
    hc = [
        iw.estimate("llama-3.1-8b", "taalas-hc1", batch=1, overlap_exponent=p).tokens_per_s_per_user
        for p in (1.0, 1000.0)
    ]
    assert hc[0] == pytest.approx(hc[1])


def test_draft_tokens_further_ahead_are_accepted_less_often():
    g = [float(serving.tokens_per_step(k, 0.9, 0.7)) for k in range(5)]
    assert g[0] == 1 and g[1] == pytest.approx(1.9)
    assert g[2] == pytest.approx(1 + 0.9 + 0.9**2 * 0.7)
    gains = np.diff(g)
    assert (gains > 0).all() and (np.diff(gains) < 0).all()  # each extra draft adds less


def test_a_fixed_prefill_pool_caps_what_the_system_delivers():
    m, hw = arrays("llama-3.1-70b"), hardware_arrays([("h100-sxm", "fp8")])
    f = iw.factors.factor_arrays(["h100-sxm"])
    dep = serving.Deployment(np.array([8.0]), np.array([1.0]), np.array([1.0]), np.array([False]))
    args = (m, hw, f, dep, 256, 4000, 200, 8.0, 8.0)
    balanced = serving.evaluate(*args, serving.Mode(disaggregated=True))
    tiny = serving.evaluate(*args, serving.Mode(disaggregated=True, prefill_chips=1))
    big = serving.evaluate(*args, serving.Mode(disaggregated=True, prefill_chips=64))
    # the pool's chips count, and a pool too small to keep up sets the rate
    assert tiny["n_chips"][0] == 9 and big["n_chips"][0] == 72
    decode_rate = 256 / balanced["step_s"][0]
    assert big["tokens_per_s"][0] == pytest.approx(decode_rate)
    assert tiny["tokens_per_s"][0] < decode_rate
    assert tiny["tokens_per_s_per_user"][0] == pytest.approx(big["tokens_per_s_per_user"][0])


def test_estimate_takes_a_fixed_prefill_pool_and_says_what_it_needs():
    kw = dict(n_chips=16, batch=64, input_tokens=4000, output_tokens=200, precision="fp8")
    pooled = iw.estimate("llama-3.1-70b", "h100-sxm", disaggregated=True, prefill_chips=8, **kw)
    assert pooled.n_chips == 16 and pooled.tp * pooled.pp * pooled.replicas <= 8
    one = iw.estimate("llama-3.1-70b", "h100-sxm", disaggregated=True, prefill_chips=1, **kw)
    assert one.tokens_per_s < pooled.tokens_per_s  # one prefill chip cannot keep up
    with pytest.raises(ValueError, match="disaggregated=True"):
        iw.estimate("llama-3.1-70b", "h100-sxm", prefill_chips=8, **kw)
    with pytest.raises(ValueError, match="larger than the pool"):
        iw.estimate("llama-3.1-70b", "h100-sxm", disaggregated=True, prefill_chips=16, **kw)


def test_sweep_takes_the_same_prefill_pool_as_estimate():
    kw = dict(batch=64, input_tokens=4000, output_tokens=200, precision="fp8", disaggregated=True)
    df = iw.sweep("llama-3.1-70b", "h100-sxm", n_chips=[16, 24], prefill_chips=8, **kw)
    one = iw.estimate("llama-3.1-70b", "h100-sxm", n_chips=16, prefill_chips=8, **kw)
    row = df[df["n_chips"] == 16].iloc[0]
    assert row["tokens_per_s"] == pytest.approx(one.tokens_per_s)
    with pytest.raises(ValueError, match="larger than the pool"):
        iw.sweep("llama-3.1-70b", "h100-sxm", n_chips=[8, 16], prefill_chips=8, **kw)


def test_first_largest_is_argmax_over_the_stacked_parts():
    """The bound label's index (small inputs skip the stack) agrees with np.argmax: first on a
    tie, a NaN wins, inf beats every number."""
    from inference_wars.engine.serving import _first_largest

    rng = np.random.default_rng(0)
    for _ in range(500):
        parts = [rng.choice([0.0, 1.0, 2.0, np.nan, np.inf], size=7) for _ in range(4)]
        np.testing.assert_array_equal(_first_largest(*parts), np.argmax(np.stack(parts), axis=0))


def test_neuron_pads_heads_where_gpus_need_the_width_to_divide_them():
    # Transformers NeuronX pads Llama 70B's 64 heads to 72 over 12 Inferentia2 chips (24 cores)
    m = workload.model_arrays(["llama-3.1-70b", "llama-3.1-8b", "llama-3.1-70b"])
    hw = hardware_arrays([("inferentia2", "bf16"), ("inferentia2", "bf16"), ("h100-sxm", "bf16")])
    assert serving.head_padding(m, hw, np.array([12, 12, 8])).tolist() == [1.125, 1.5, 1.0]
    wide = iw.estimate("llama-3.1-70b", "inferentia2", n_chips=12, tp=12, batch=1)
    narrow = iw.estimate("llama-3.1-70b", "inferentia2", n_chips=12, tp=8, batch=1)
    assert wide.tp == 12 and wide.tokens_per_s_per_user > narrow.tokens_per_s_per_user
    # each chip holds 6 of the 72 padded heads: more than 64 / 12, less than 8 chips' 8 heads
    attn, kv = serving._shares(m.take(np.array([0])), hw.take(np.array([0])), 12.0, False)
    assert attn.tolist() == pytest.approx([6 / 64]) and kv.tolist() == pytest.approx([2 / 8])
    with pytest.raises(ValueError, match="does not divide"):
        iw.estimate("llama-3.1-70b", "gb200-nvl72", n_chips=12, tp=12, batch=1)


def test_a_power_limited_clock_slows_dense_maths_and_nothing_else():
    """MI325X is MI300X's compute silicon on a 1000 W board: AMD measures it holding 0.697 of the
    peak clock in dense GEMMs against MI300X's 0.586, so compute-bound work runs 0.697 / 0.586 =
    1.19x faster while a bandwidth-bound batch-1 step is unchanged by the clock."""
    from inference_wars.engine.hardware import chip_row

    mi300, mi325 = iw.get_chip("mi300x"), iw.get_chip("mi325x")
    clock300, clock325 = (c.get("matrix_clock_fraction") for c in (mi300, mi325))
    assert (clock300, clock325) == (0.586, 0.697)
    assert mi300.get("peak_dense_tflops_fp8") == mi325.get("peak_dense_tflops_fp8")
    assert chip_row("mi300x", "fp8")["peak_tflops"] == pytest.approx(2614.9 * 0.586)
    assert chip_row("h100-sxm", "fp8")["peak_tflops"] == iw.get_chip("h100-sxm").get(
        "peak_dense_tflops_fp8"
    )  # no published clock: the spec peak
    kw = dict(n_chips=1, batch=1, input_tokens=32768, output_tokens=1, precision="fp8", tp=1)
    slow, fast = (iw.estimate("llama-3.1-8b", c, **kw) for c in ("mi300x", "mi325x"))
    # a 32k-token prompt's prefill is maths (its weight reads and fixed costs are small)
    assert slow.ttft_s / fast.ttft_s == pytest.approx(clock325 / clock300, rel=0.03)
    one = dict(n_chips=1, batch=1, input_tokens=128, output_tokens=128, precision="fp8", tp=1)
    # 70B on one GPU: its weight reads dwarf AMD's fixed per-layer time (an 8B step is nearer a tie)
    b300, b325 = (iw.estimate("llama-3.1-70b", c, **one) for c in ("mi300x", "mi325x"))
    assert b300.bound == "memory"
    assert b325.tokens_per_s_per_user > b300.tokens_per_s_per_user  # MI325X's faster HBM only
    assert b325.tokens_per_s_per_user / b300.tokens_per_s_per_user < 6.0 / 5.3 + 0.01


def test_only_w8a16_reads_pay_for_unpacking():
    """gpt-fast's int8 weight-only kernels read at weight_only_efficiency; Marlin-class kernels
    unpack FP8 on an A100 and MXFP4 on an H100 at native bandwidth (their maths on bf16)."""
    from inference_wars.engine.formats import compute_peak_quantity, pays_unpacking

    assert pays_unpacking("int8-wo", "a100-sxm") and pays_unpacking("int8-wo", "h100-sxm")
    assert not pays_unpacking("fp8", "a100-sxm") and not pays_unpacking("mxfp4", "h100-sxm")
    assert not pays_unpacking("fp8", "h100-sxm")  # native FP8 tensor cores
    assert compute_peak_quantity("mxfp4", "h100-sxm") == "peak_dense_tflops_bf16"
    # the fit may put W8A16's reads at full speed (weight_only_efficiency 1): ask at 0.8 to see it
    kw = dict(n_chips=1, batch=1, input_tokens=128, output_tokens=256, tp=1)
    kw["weight_only_efficiency"] = 0.8
    fp8 = iw.estimate("llama-3.1-8b", "a100-sxm", precision="fp8", **kw)
    w8 = iw.estimate("llama-3.1-8b", "a100-sxm", precision="int8-wo", **kw)
    assert fp8.bound == w8.bound == "memory"
    # same bytes: FP8's reads run at the full memory efficiency, W8A16's at weight_only_efficiency
    # of it, so most of that penalty (diluted by fixed per-layer times) shows in the speed
    penalty = 1.0 / 0.8
    ratio = fp8.tokens_per_s_per_user / w8.tokens_per_s_per_user
    assert 1.0 + 0.6 * (penalty - 1.0) < ratio <= penalty + 1e-9
    # and at the shipped fit, W8A16 is never faster than FP8's same bytes
    kw.pop("weight_only_efficiency")
    fit = [iw.estimate("llama-3.1-8b", "a100-sxm", precision=p, **kw) for p in ("fp8", "int8-wo")]
    assert fit[0].tokens_per_s_per_user >= fit[1].tokens_per_s_per_user * (1 - 1e-9)


def test_prompt_attention_runs_at_the_16_bit_peak_whatever_the_weights():
    """A 4-bit model's matrix multiplies run at the FP4 peak, but attention over its prompt runs
    at the 16-bit peak (as in decode): NVFP4's lead over FP8 in time to first token shrinks as the
    prompt grows and attention takes over, to under 10 % at 120K tokens."""
    from inference_wars.engine import workload
    from inference_wars.engine.workload import model_arrays

    m = model_arrays(["deepseek-r1"])
    for S, share in ((1024, 0.2), (120_000, 0.75)):
        attn = workload.prefill_attention_flops(m, S)[0] / workload.prefill_flops(m, S)[0]
        assert (attn < share) if S == 1024 else (attn > share)
    kw = dict(n_chips=8, batch=1, tp=8, output_tokens=1)
    speedup = {
        S: iw.estimate("deepseek-r1", "b200", precision="fp8", input_tokens=S, **kw).ttft_s
        / iw.estimate("deepseek-r1", "b200", precision="nvfp4", input_tokens=S, **kw).ttft_s
        for S in (2048, 120_000)
    }
    assert speedup[2048] > speedup[120_000] + 0.08 and speedup[120_000] < 1.1
