"""Memory hierarchy table and roofline points for prefill/decode."""

import numpy as np
import pytest

import inference_wars as iw
from inference_wars import hierarchy, workload


def test_hierarchy_levels_and_sources():
    h = hierarchy.memory_hierarchy(["a100-sxm", "h100-sxm", "b200", "vera-rubin-nvl72"])
    h100 = h[h["chip"] == "h100-sxm"].set_index("level")
    assert list(h100.index) == ["registers", "L1 / shared memory", "L2 cache", "HBM"]
    assert h100.loc["L2 cache", "capacity_gb"] == pytest.approx(0.05)
    assert h100.loc["HBM", "bandwidth_tb_s"] == pytest.approx(3.35)
    # every SRAM level is at least 1000x smaller than HBM, and faster where a bandwidth is known
    sram = h100.drop(index="HBM")
    assert (sram["capacity_gb"] * 1000 < h100.loc["HBM", "capacity_gb"]).all()
    known = sram["bandwidth_tb_s"].dropna()
    assert (known > h100.loc["HBM", "bandwidth_tb_s"]).all()
    assert set(h["capacity_source"]) <= set(iw.catalog.bib_keys())
    # Rubin: only HBM is published
    assert h[h["chip"] == "vera-rubin-nvl72"]["level"].tolist() == ["HBM"]


def test_roofline_points_by_hand():
    p = hierarchy.roofline_points("llama-3.1-8b", "h100-sxm", "fp8", [1, 64], [2048])
    ma = workload.model_arrays(["llama-3.1-8b"])
    f, q = workload.decode_step(ma, 1, 2048, 8, 8)
    d1 = p[(p["phase"] == "decode") & (p["batch"] == 1)].iloc[0]
    assert d1["intensity"] == pytest.approx(f[0] / q[0])
    assert d1["ridge"] == pytest.approx(1978.9 / 3.35)
    assert d1["bound"] == "memory"
    assert p[p["phase"] == "prefill"]["bound"].eq("compute").all()
    dec = p[p["phase"] == "decode"].sort_values("batch")
    assert np.all(np.diff(dec["intensity"]) > 0)  # batching raises intensity
    assert (p["attainable_tflops"] <= p["peak_tflops"] + 1e-9).all()


def test_skips_formats_a_chip_cannot_run():
    p = hierarchy.roofline_points(
        ["llama-3.1-8b"], ["a100-sxm", "taalas-hc1"], ["bf16", "nvfp4"], [1], [1024]
    )
    assert set(zip(p["chip"], p["precision"])) == {("a100-sxm", "bf16"), ("a100-sxm", "nvfp4")}
    # FP4 weights on an A100 run weight-only: the roof is the 16-bit peak
    a = p.set_index("precision")
    assert a.loc["nvfp4", "peak_tflops"].iloc[0] == a.loc["bf16", "peak_tflops"].iloc[0]
    with pytest.raises(ValueError, match="no \\(chip, precision\\)"):
        hierarchy.roofline_points("llama-3.1-8b", "a100-sxm", "taalas-3b6b", [1], [1024])
    with pytest.raises(ValueError, match="maximum"):
        hierarchy.roofline_points("llama-2-70b", "h100-sxm", "fp8", [1], [8192])


def test_decode_ceiling():
    ma = workload.model_arrays(["llama-3.1-70b"])
    q = workload.weight_bytes_read(ma, 1, 8)[0]
    got = hierarchy.decode_ceiling_tokens_per_s(
        "llama-3.1-70b", "h100-sxm", "fp8", context=1, n_chips=1
    )
    assert got == pytest.approx(3.35e12 / (q + workload.kv_bytes_per_sequence(ma, 1, 8)[0]))
    assert hierarchy.decode_ceiling_tokens_per_s(
        "llama-3.1-70b", "h100-sxm", "fp8", n_chips=8
    ) == pytest.approx(8 * got)
    with pytest.raises(ValueError, match="cannot run"):
        hierarchy.decode_ceiling_tokens_per_s("llama-3.1-70b", "h100-sxm", "taalas-3b6b")
