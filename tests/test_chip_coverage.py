"""Chips added to the catalog behave as their spec sheets say they should relative to a sibling.

MI325X is MI300X's CDNA 3 compute silicon with 256 GB of HBM3E at 6.0 TB/s (MI300X: 192 GB of
HBM3 at 5.3 TB/s) and a 1000 W board; it takes the AMD family's fitted factors, nothing of its own.
"""

import pytest

import inference_wars as iw
from inference_wars.engine.hardware import family

#: MI325X / MI300X peak HBM bandwidth (6.0 / 5.3 TB/s).
BW_RATIO = 6.0 / 5.3


def test_mi325x_is_mi300x_compute_with_more_and_faster_memory():
    new, old = iw.get_chip("mi325x"), iw.get_chip("mi300x")
    assert family(new) == family(old) == "amd-gpu"
    assert new.get("hbm_gb") == 256 > old.get("hbm_gb")
    assert new.get("hbm_tb_s") / old.get("hbm_tb_s") == pytest.approx(BW_RATIO)
    for peak in ("peak_dense_tflops_bf16", "peak_dense_tflops_fp8"):
        assert new.get(peak) == old.get(peak)
    assert new.get("tdp_w") > old.get("tdp_w")
    assert iw.get_chip("amd-mi325x").id == "mi325x"


def test_one_gpu_decode_gains_the_bandwidth_ratio_less_the_fixed_overheads():
    """One GPU, batch 1, Llama 2 70B in FP8 (70 GB of weights read per token): both chips are
    memory-bound, so MI325X is faster by at most the bandwidth ratio (1.13) and, since the
    per-layer overheads both pay are small beside the weight read, by at least 60 % of that gain
    (speed-up >= 1.08)."""
    kw = dict(n_chips=1, batch=1, precision="fp8")
    new = iw.estimate("llama-2-70b", "mi325x", **kw)
    old = iw.estimate("llama-2-70b", "mi300x", **kw)
    assert new.bound == old.bound == "memory"
    speedup = new.tokens_per_s_per_user / old.tokens_per_s_per_user
    assert 1 + 0.6 * (BW_RATIO - 1) <= speedup <= BW_RATIO * 1.001


def test_mi325x_holds_what_mi300x_cannot_on_the_same_chip_count():
    """Llama 3.1 405B in FP8 (~405 GB of weights): two MI325X (512 GB) hold it, two MI300X
    (384 GB) do not."""
    kw = dict(n_chips=2, batch=1, precision="fp8")
    assert iw.estimate("llama-3.1-405b", "mi325x", **kw).fits
    assert not iw.estimate("llama-3.1-405b", "mi300x", **kw).fits
