"""What a chip that is not shipping yet must reach to win: the inverse of an estimate.

For a model, a workload and an interactivity target ``x0`` (tokens/s per user), a chip's cost is
that of its cheapest configuration meeting the target, searched over batch sizes and chip counts
(same serving engine as :func:`inference_wars.estimate`):

    cost(chip, x0) = min { usd_per_million_tokens(b, n) : fits(b, n) and tokens_per_s_per_user(b, n) >= x0 }
    ratio          = cost(baseline, x0) / cost(challenger, x0)          (> 1: the challenger is cheaper)

The challenger's hardware numbers (HBM bandwidth, SRAM capacity, price, ...) and the achieved
fraction of peak (``compute_efficiency``) can be overridden, so a grid of overrides maps which
specifications beat the baseline. ``ratio`` is 0 where the challenger cannot reach the target
and :data:`RATIO_CAP` where only the challenger can (so charts never see an infinity).

Where weights live: weights and KV fill on-chip SRAM first, then HBM
(:func:`inference_wars.engine.memory.tiered_read_time_s`); :func:`sram_resident_chips` is the fewest
chips whose SRAM alone holds the weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import catalog
from ..engine import economics, serving
from ..engine.deployment import batch_grid
from ..engine.formats import bits_per_weight
from ..engine.hardware import HardwareArrays, hardware_arrays
from ..engine.workload import model_arrays
from ..errors import (
    UnknownNameError,
    require_array,
    require_count,
    require_fraction,
    require_list,
    require_number,
    require_positive,
    require_scenario,
)

RATIO_CAP = 10.0
BATCHES = batch_grid(2048)
N_CHIPS = (1, 2, 4, 8, 16, 32, 64, 72, 128)

#: Hardware fields a caller may override (units as in :class:`inference_wars.engine.hardware.HardwareArrays`).
HARDWARE_FIELDS = (
    "peak_tflops",
    "sram_gb",
    "sram_tb_s",
    "hbm_gb",
    "hbm_tb_s",
    "scaleup_gb_s",
    "scaleup_domain",
    "power_w",
    "price_usd",
)


def _hardware(chip: str, fmt: str, scenario: str, overrides: dict[str, float]) -> HardwareArrays:
    hw = hardware_arrays([(chip, fmt)], scenario)
    cols = {k: getattr(hw, k) for k in HardwareArrays.__dataclass_fields__}
    for k, v in overrides.items():
        if k not in HARDWARE_FIELDS:
            raise UnknownNameError("hardware field", k, HARDWARE_FIELDS)
        if k == "sram_gb":
            cols[k] = np.array([require_number("sram_gb", v, 0, 1e6)])
        elif k == "scaleup_domain":
            cols[k] = np.array([float(require_count("scaleup_domain", v))])
        else:
            cols[k] = np.array([require_positive(k, v)])
    return HardwareArrays(**cols)


def configurations(
    model: str,
    chip: str,
    precision: str | None = None,
    input_tokens: int = 8192,
    output_tokens: int = 1024,
    batches: Sequence[int] = BATCHES,
    n_chips: Sequence[int] = N_CHIPS,
    scenario: str = "base",
    hardware: dict[str, float] | None = None,
    **assumption_overrides: float,
):
    """Every (batch, chip count) that fits, with its speed per user and cost, as a DataFrame.

    Used in chapter 5.
    """
    import pandas as pd

    from ..api import MAX_TOKENS, check_assumption_overrides, resolve
    from ..engine import factors

    m_id, c, fmt, kv_fmt = resolve(model, chip, precision)
    require_scenario(scenario)
    if hardware is not None and not isinstance(hardware, dict):
        raise ValueError(
            f"hardware must be a dict of {', '.join(HARDWARE_FIELDS)}, got {hardware!r}"
        )
    hw1 = _hardware(c.id, fmt, scenario, dict(hardware or {}))
    batch_list = [require_count("batch", b) for b in require_list("batches", batches)]
    chip_list = [require_count("n_chips", n) for n in require_list("n_chips", n_chips)]
    S = float(require_count("input_tokens", input_tokens, MAX_TOKENS))
    O = float(require_count("output_tokens", output_tokens, MAX_TOKENS))
    B, N = (
        g.ravel().astype(float)
        for g in np.meshgrid(
            np.asarray(batch_list, float), np.asarray(chip_list, float), indexing="ij"
        )
    )
    hw = hw1.take(np.zeros(B.shape, np.intp))
    m = model_arrays([m_id]).take(np.zeros(B.shape, np.intp))
    wb = bits_per_weight(fmt, scenario)
    kb = bits_per_weight(kv_fmt)
    a = factors.factor_arrays(
        [c.id] * len(B), scenario, check_assumption_overrides(assumption_overrides)
    )
    need = serving.chips_needed(m, hw, B, S, O, wb, kb, a.usable_memory_fraction)
    fits = np.isfinite(need) & (N >= need - 1e-9)
    res = serving.evaluate(m, hw, a, serving.single_instance(m, hw, N), B, S, O, wb, kb)
    df = pd.DataFrame(
        {
            "batch": B.astype(int),
            "n_chips": N.astype(int),
            "fits": fits,
            "tokens_per_s_per_user": res["tokens_per_s_per_user"],
            "tokens_per_s_per_chip": res["tokens_per_s_per_chip"],
            "usd_per_million_tokens": res["usd_per_million_tokens"],
            "bound": res["bound"],
        }
    )
    return df[df["fits"]].reset_index(drop=True)


def cost_at_target(configs, target_tokens_per_s_per_user) -> np.ndarray:
    """Cheapest USD per million tokens among ``configs`` meeting each target (``inf`` where none does).

    Used in chapter 5.
    """
    from ..errors import require_frame

    t = np.atleast_1d(
        require_array(
            "target_tokens_per_s_per_user", target_tokens_per_s_per_user, 0, low_open=True
        )
    )
    require_frame(
        "configs", configs, ("tokens_per_s_per_user", "usd_per_million_tokens"), allow_empty=True
    )
    x = configs["tokens_per_s_per_user"].to_numpy(float)
    cost = configs["usd_per_million_tokens"].to_numpy(float)
    return np.array([cost[x >= v].min() if (x >= v).any() else np.inf for v in t])


def requirement_grid(
    model: str,
    targets: Sequence[float],
    hbm_tb_s: Sequence[float],
    sram_mb: Sequence[float],
    compute_efficiency: Sequence[float],
    challenger: str = "matx-one",
    baseline: str = "vera-rubin-nvl72",
    precision: str = "fp8",
    input_tokens: int = 8192,
    output_tokens: int = 1024,
    scenario: str = "base",
):
    """Cost ratio baseline / challenger for every (target, HBM bandwidth, SRAM size, achieved
    fraction of peak) of the challenger; everything else at the catalog's ``scenario`` values.
    The baseline keeps the default assumptions. Returns a long DataFrame.

    Used in chapter 5.
    """
    import pandas as pd

    targets, hbm_tb_s, sram_mb, compute_efficiency = (
        require_list(n, v)
        for n, v in (
            ("targets", targets),
            ("hbm_tb_s", hbm_tb_s),
            ("sram_mb", sram_mb),
            ("compute_efficiency", compute_efficiency),
        )
    )
    base_cfg = configurations(
        model, baseline, precision, input_tokens, output_tokens, scenario=scenario
    )
    base_cost = cost_at_target(base_cfg, targets)
    rows = []
    for eff in compute_efficiency:
        for bw in hbm_tb_s:
            for sram in sram_mb:
                cfg = configurations(
                    model,
                    challenger,
                    precision,
                    input_tokens,
                    output_tokens,
                    scenario=scenario,
                    hardware={"hbm_tb_s": bw, "sram_gb": float(sram) / 1e3},
                    compute_efficiency=eff,
                )
                cost = cost_at_target(cfg, targets)
                ratio = economics.cost_ratio(base_cost, cost, cap=RATIO_CAP)
                for t, bc, cc, r in zip(targets, base_cost, cost, ratio):
                    rows.append(
                        {
                            "model": model,
                            "target": float(t),
                            "compute_efficiency": float(eff),
                            "hbm_tb_s": float(bw),
                            "sram_mb": float(sram),
                            "ratio": float(r),
                            "beats_baseline": bool(r > 1.0),
                            "baseline_usd_per_mtok": float(bc) if np.isfinite(bc) else np.nan,
                            "challenger_usd_per_mtok": float(cc) if np.isfinite(cc) else np.nan,
                        }
                    )
    return pd.DataFrame(rows)


def min_bandwidth_to_win(grid):
    """Per (model, target, efficiency, SRAM): the smallest HBM bandwidth in the grid where the
    challenger is cheaper (``NaN`` if none is).

    Used in chapter 5.
    """
    won = grid[grid["beats_baseline"]]
    keys = ["model", "target", "compute_efficiency", "sram_mb"]
    out = (
        won.groupby(keys, as_index=False)["hbm_tb_s"]
        .min()
        .rename(columns={"hbm_tb_s": "min_hbm_tb_s"})
    )
    return grid[keys].drop_duplicates().merge(out, on=keys, how="left")


def sram_resident_chips(
    model: str, precision: str, sram_mb, usable_fraction: float | None = None
) -> np.ndarray:
    """Fewest chips whose SRAM alone holds the weights: ``ceil(W / (sram * usable))``.

    Used in chapter 5.
    """
    from ..api import assumptions_for
    from ..engine.workload import weights_bytes

    u = (
        assumptions_for("base").usable_memory_fraction
        if usable_fraction is None
        else usable_fraction
    )
    u = require_fraction("usable_fraction", u)
    if u < 0.01:
        raise ValueError(f"usable_fraction must be in [0.01, 1], got {u!r}")
    w = weights_bytes(model_arrays([catalog.get_model(model).id]), bits_per_weight(precision))[0]
    s = require_array("sram_mb", sram_mb, 0, 1e9, low_open=True)
    return np.ceil(w / (s * 1e6 * u))
