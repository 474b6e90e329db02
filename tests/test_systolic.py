"""Systolic-array and GPU-tile utilisation (inference_wars.analyses.systolic) and the challenger inverse
(inference_wars.analyses.challenger)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference_wars import challenger as ch
from inference_wars import systolic as sy
from inference_wars.engine import economics

dims = st.integers(1, 20_000)


def test_hand_computed_cycles():
    # M=8 on a 128x128 array, K=N=256: 4 tiles x max(8,128) + 254 fill
    assert float(sy.systolic_cycles(8, 256, 256)) == 4 * 128 + 254
    assert float(sy.systolic_utilization(8, 256, 256)) == pytest.approx(
        8 * 256 * 256 / (128 * 128 * (4 * 128 + 254))
    )
    # split 4x4: 32x32 tiles -> 64 tiles over 16 arrays = 4 each, max(8,32)=32, fill 62
    assert float(sy.systolic_cycles(8, 256, 256, split=4)) == 4 * 32 + 62


def test_gpu_tiles_hand_computed():
    # M=1 pads to 64 rows; N, K exact; 1 x 8 tiles on 132 SMs -> 8/132 of a wave
    assert float(sy.gpu_tile_utilization(1, 1024, 1024)) == pytest.approx(1 / 64 * 8 / 132)
    assert float(sy.gpu_tile_utilization(64 * 132, 128, 128)) == pytest.approx(1.0)


def test_bad_split_is_explained():
    with pytest.raises(ValueError, match="divide the array"):
        sy.systolic_utilization(8, 256, 256, rows=128, cols=128, split=3)
    with pytest.raises(ValueError, match="positive"):
        sy.systolic_utilization(0, 256, 256)


@settings(max_examples=300, deadline=None)
@given(
    M=dims,
    K=dims,
    N=dims,
    split=st.sampled_from([1, 2, 4, 8, 16]),
    g=st.integers(1, 64),
    cap=st.one_of(st.none(), st.floats(16, 4096)),
)
def test_utilization_never_exceeds_one(M, K, N, split, g, cap):
    u = float(
        sy.systolic_utilization(M, K, N, split=split, operand_words_per_cycle=cap, concurrent=g)
    )
    assert 0 < u <= 1
    v = float(sy.gpu_tile_utilization(M, K, N, concurrent=g))
    assert 0 < v <= 1


@settings(max_examples=300, deadline=None)
@given(
    M=st.integers(1, 128),
    K=dims,
    N=dims,
    s1=st.sampled_from([1, 2, 4, 8]),
    s2=st.sampled_from([1, 2, 4, 8, 16]),
)
def test_splitting_never_lowers_skinny_gemm_utilization(M, K, N, s1, s2):
    lo, hi = sorted((s1, s2))
    assert sy.systolic_utilization(M, K, N, split=hi) >= sy.systolic_utilization(
        M, K, N, split=lo
    ) * (1 - 1e-12)


def test_operand_bandwidth_cap_makes_fine_splits_cost_on_fat_gemms():
    fat = dict(M=8192, K=8192, N=8192, operand_words_per_cycle=512)
    assert sy.systolic_utilization(split=16, **fat) < sy.systolic_utilization(split=1, **fat)


def test_gemm_shapes_cover_the_models_matmul_work():
    from inference_wars import workload

    shp = sy.gemm_shapes("llama-3.1-8b", "decode", batch=1, context=1)
    m = workload.model_arrays(["llama-3.1-8b"])
    proj = shp[~shp["op"].str.startswith("attention")]["macs"].sum()
    # every layer weight once per token (the LM head is not in the list)
    assert proj == pytest.approx(m.params_matmul[0] - 4096 * 128256, rel=0.01)
    moe = sy.gemm_shapes("deepseek-r1", "decode", batch=8)
    assert "expert up+gate" in set(moe["op"])


def test_step_utilization_rises_with_batch_and_split():
    g = sy.utilization_grid("llama-3.1-70b", [1, 8, 64], splits=(1, 4))
    one = g[g["engine"] == "one array"].set_index("tokens")["utilization"]
    split = g[g["split"] == 4].set_index("tokens")["utilization"]
    assert one[1] < one[8] < one[64]
    assert (split >= one).all()
    assert np.isfinite(g["utilization"]).all()


def test_challenger_costs_and_ratio():
    base = ch.configurations("llama-3.1-70b", "vera-rubin-nvl72", "fp8")
    assert base["fits"].all() and len(base) > 10
    c = ch.cost_at_target(base, [50, 1e9])
    assert np.isfinite(c[0]) and np.isinf(c[1])
    ratio = economics.cost_ratio([1.0, np.inf, 1.0], [0.5, 1.0, np.inf], cap=ch.RATIO_CAP)
    assert list(ratio) == [2.0, ch.RATIO_CAP, 0.0]
    faster = ch.configurations("llama-3.1-70b", "matx-one", "fp8", hardware={"hbm_tb_s": 40})
    slower = ch.configurations("llama-3.1-70b", "matx-one", "fp8", hardware={"hbm_tb_s": 2})
    assert ch.cost_at_target(faster, 100)[0] <= ch.cost_at_target(slower, 100)[0]
    with pytest.raises(ValueError, match="hbm_tb_s"):
        ch.configurations("llama-3.1-70b", "matx-one", "fp8", hardware={"hbm_tbs": 4})


def test_requirement_grid_and_min_bandwidth():
    g = ch.requirement_grid(
        "llama-3.1-8b", [100], [2, 40], [500], [0.5], input_tokens=2048, output_tokens=256
    )
    assert len(g) == 2 and g["ratio"].between(0, ch.RATIO_CAP).all()
    r = g.set_index("hbm_tb_s")["ratio"]
    assert r[40] >= r[2]
    mb = ch.min_bandwidth_to_win(g)
    assert len(mb) == 1


def test_sram_resident_chips():
    n = ch.sram_resident_chips("llama-3.1-70b", "fp8", [500, 2000])
    assert n[0] > n[1] >= 35
