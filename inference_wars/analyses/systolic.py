"""How busy a matrix engine stays on real inference GEMMs: one big systolic array, the same array
split into independent tiles (MatX's "splittable systolic array"), and GPU tensor-core tiles.

A GEMM multiplies an ``M x K`` activation matrix by a ``K x N`` weight matrix (``M`` = tokens in
flight: the batch in decode, the prompt in prefill). It does ``M K N`` multiply-accumulates.

**Systolic array** (weight-stationary, ``R x C`` processing elements split into ``s x s``
independent sub-arrays of ``r x c = R/s x C/s``). Weights are cut into ``ceil(K/r) ceil(N/c)``
tiles (times ``g`` independent instances of a batched GEMM, e.g. attention heads), shared out
over the ``s^2`` sub-arrays. A sub-array holds one tile while the ``M`` rows
stream through; loading the next tile (``r`` cycles, double-buffered) overlaps streaming, so a
tile occupies it for ``max(M, r)`` cycles, and filling/draining the pipeline costs ``r + c - 2``
once. Cycles and utilisation:

    cycles = ceil(g ceil(K/r) ceil(N/c) / s^2) * max(M, r) + r + c - 2
    util   = g M K N / (R C cycles)

Splitting never lowers this utilisation (fewer idle rows when ``M < r``, no more tiles per
sub-array). Its cost is operand traffic: ``s^2`` sub-arrays take ``s^2 (r + c) = s (R + C)``
words per cycle where the whole array took ``R + C``. With a cap of ``W`` words per cycle the
cycles stretch by ``max(1, s (R + C) / W)``.

**GPU tensor cores.** A GEMM runs as ``g ceil(M/tm) ceil(N/tn)`` output tiles on ``n_units``
streaming multiprocessors in waves; a tile is padded to ``tm x tn x tk``:

    util = M K N / (ceil(M/tm) tm * ceil(N/tn) tn * ceil(K/tk) tk) * tiles / (ceil(tiles/n_units) n_units)

Both are upper bounds from shape alone: memory bandwidth (decode's real limit) is elsewhere in
the package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..catalog import get_model
from ..errors import (
    require_array,
    require_choice,
    require_count,
    require_frame,
    require_list,
    require_positive_int,
)

#: H100 SXM: 132 SMs; Hopper's warpgroup MMA has M = 64 rows per instruction; a common
#: CUTLASS/cuBLAS CTA tile is 64-128 x 128-256 x 64 (we take 64 x 128 x 64).
GPU_TILE = {"tile_m": 64, "tile_n": 128, "tile_k": 64, "n_units": 132}


def _pos(name, x) -> np.ndarray:
    return require_array(name, x, 0, 1e15, low_open=True)


def systolic_cycles(
    M, K, N, rows=128, cols=128, split=1, operand_words_per_cycle=None, concurrent=1
) -> np.ndarray:
    """Cycles for ``concurrent`` instances of one GEMM on a ``rows x cols`` array split
    ``split x split`` (module doc).

    No chapter calls it directly; :func:`systolic_utilization` uses it.
    """
    M, K, N = _pos("M", M), _pos("K", K), _pos("N", N)
    g = _pos("concurrent", concurrent)
    R, C = require_positive_int("rows", rows), require_positive_int("cols", cols)
    s = require_array("split", split, 1, R)
    if (s != np.round(s)).any():
        raise ValueError("split must be a positive integer")
    r, c = R / s, C / s
    if (r != np.round(r)).any() or (c != np.round(c)).any():
        raise ValueError(f"split must divide the array ({rows} x {cols}) evenly")
    tiles = g * np.ceil(K / r) * np.ceil(N / c)
    cycles = np.ceil(tiles / s**2) * np.maximum(M, r) + r + c - 2.0
    if operand_words_per_cycle is not None:
        W = _pos("operand_words_per_cycle", operand_words_per_cycle)
        cycles = cycles * np.maximum(1.0, s * (R + C) / W)
    return cycles


def systolic_utilization(
    M, K, N, rows=128, cols=128, split=1, operand_words_per_cycle=None, concurrent=1
) -> np.ndarray:
    """Fraction of the array's MAC slots doing useful work: ``g M K N / (R C cycles)``; in (0, 1].

    Used in chapter 5.
    """
    cycles = systolic_cycles(M, K, N, rows, cols, split, operand_words_per_cycle, concurrent)
    util = (
        np.asarray(concurrent, float)
        * np.asarray(M, float)
        * np.asarray(K, float)
        * np.asarray(N, float)
        / (float(rows) * float(cols) * cycles)
    )
    return np.minimum(util, 1.0)


def gpu_tile_utilization(
    M,
    K,
    N,
    tile_m=GPU_TILE["tile_m"],
    tile_n=GPU_TILE["tile_n"],
    tile_k=GPU_TILE["tile_k"],
    n_units=GPU_TILE["n_units"],
    concurrent=1,
) -> np.ndarray:
    """Padding and wave quantisation of ``concurrent`` instances of a tiled GEMM on GPU tensor
    cores (module doc); in (0, 1].

    No chapter calls it directly; :func:`step_utilization` uses it.
    """
    M, K, N = _pos("M", M), _pos("K", K), _pos("N", N)
    g = _pos("concurrent", concurrent)
    tm, tn, tk, u = (
        float(require_positive_int(n, v))
        for n, v in (
            ("tile_m", tile_m),
            ("tile_n", tile_n),
            ("tile_k", tile_k),
            ("n_units", n_units),
        )
    )
    tiles_m, tiles_n = np.ceil(M / tm), np.ceil(N / tn)
    pad = M * K * N / (tiles_m * tm * tiles_n * tn * np.ceil(K / tk) * tk)
    tiles = g * tiles_m * tiles_n
    waves = tiles / (np.ceil(tiles / u) * u)
    return np.minimum(pad * waves, 1.0)


def gemm_shapes(model: str, phase: str = "decode", batch: int = 1, context: int = 4096):
    """The GEMMs of one forward step of every layer, as a DataFrame (``op``, ``M``, ``K``, ``N``,
    ``count`` per step, ``concurrent``: instances that run side by side as one batched GEMM,
    ``macs``). ``decode``: ``M = batch`` for the projections and, for
    attention, one query group per (sequence, KV head) against ``context`` keys. ``prefill``:
    ``M = context`` prompt tokens (one sequence), causal attention counted as half the square.
    Mixture-of-experts layers give each routed expert ``M = batch * k / E`` tokens on average
    (at least 1). MLA models are treated with their absorbed latent dimensions.

    Used in chapter 5.
    """
    import pandas as pd

    m = get_model(model)
    if phase not in ("decode", "prefill"):
        raise ValueError(f"phase must be 'decode' or 'prefill', got {phase!r}")
    B = require_positive_int("batch", batch)
    S = require_positive_int("context", context)
    T = B if phase == "decode" else S
    d, L = m.d_model, m.n_layers
    hd = m.head_dim
    if m.attention == "mla":
        q_dim = m.n_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
        kv_out = m.kv_lora_rank + m.qk_rope_head_dim
        o_in = m.n_heads * m.v_head_dim
        kv_heads, group, dk, dv = 1, m.n_heads, m.kv_lora_rank + m.qk_rope_head_dim, m.kv_lora_rank
    else:
        q_dim, kv_out, o_in = m.n_heads * hd, 2 * m.n_kv_heads * hd, m.n_heads * hd
        kv_heads, group, dk, dv = m.n_kv_heads, m.n_heads // m.n_kv_heads, hd, hd
    rows = [("QKV projection", T, d, q_dim + kv_out, L, 1), ("output projection", T, o_in, d, L, 1)]
    n_moe = L - m.n_dense_layers if m.n_experts else 0
    if L - n_moe:
        rows += [
            ("FFN up+gate", T, d, 2 * m.d_ff, L - n_moe, 1),
            ("FFN down", T, m.d_ff, d, L - n_moe, 1),
        ]
    if n_moe:
        per_expert = max(T * m.n_experts_active / m.n_experts, 1.0)
        experts = min(m.n_experts, T * m.n_experts_active)
        rows += [
            ("expert up+gate", per_expert, d, 2 * m.d_ff_expert, n_moe * experts, experts),
            ("expert down", per_expert, m.d_ff_expert, d, n_moe * experts, experts),
        ]
        if m.n_shared_experts:
            rows += [("shared expert", T, d, 3 * m.d_ff_expert * m.n_shared_experts, n_moe, 1)]
    if phase == "decode":
        rows += [
            ("attention scores (QK)", group, dk, S, L * B * kv_heads, B * kv_heads),
            ("attention values (PV)", group, S, dv, L * B * kv_heads, B * kv_heads),
        ]
    else:
        rows += [
            ("attention scores (QK)", S, dk, S / 2, L * m.n_heads, m.n_heads),
            ("attention values (PV)", S, S / 2, dv, L * m.n_heads, m.n_heads),
        ]
    df = pd.DataFrame(rows, columns=["op", "M", "K", "N", "count", "concurrent"])
    df["macs"] = df["M"] * df["K"] * df["N"] * df["count"]
    return df


def step_utilization(shapes, engine: str = "systolic", **kwargs) -> float:
    """MAC-weighted utilisation of a whole step: ``sum(macs) / sum(macs / util_i)``.

    No chapter calls it directly; :func:`utilization_grid` uses it.
    """
    require_frame("shapes", shapes, ("M", "K", "N", "concurrent", "macs"))
    require_choice("engine", engine, ("systolic", "gpu"))
    M, K, N, g = (shapes[c].to_numpy(float) for c in ("M", "K", "N", "concurrent"))
    if engine == "systolic":
        u = systolic_utilization(M, K, N, concurrent=g, **kwargs)
    elif engine == "gpu":
        u = gpu_tile_utilization(M, K, N, concurrent=g, **kwargs)
    else:
        raise ValueError(f"engine must be 'systolic' or 'gpu', got {engine!r}")
    macs = shapes["macs"].to_numpy(float)
    return float(macs.sum() / (macs / u).sum())


def _maybe_empty(name: str, values) -> list:
    """A list of values (possibly empty); one number becomes a one-element list."""
    if values is None:
        return []
    if isinstance(values, (list, tuple, range)) and len(values) == 0:
        return []
    return require_list(name, values)


def utilization_grid(
    model: str,
    batches: Sequence[int],
    splits: Sequence[int] = (1, 2, 4, 8),
    rows: int = 128,
    cols: int = 128,
    context: int = 4096,
    prefill_tokens: Sequence[int] = (),
    operand_words_per_cycle=None,
):
    """Step utilisation for every batch (decode) or prompt length (prefill) on the whole array,
    each split and the GPU tile model. Returns a long DataFrame: ``phase``, ``tokens``,
    ``engine`` (label), ``split``, ``utilization``.

    Used in chapter 5.
    """
    import pandas as pd

    out = []
    rows, cols = (
        require_positive_int("rows", rows, 1 << 20),
        require_positive_int("cols", cols, 1 << 20),
    )
    batches = [require_count("batch", b) for b in _maybe_empty("batches", batches)]
    prefill_tokens = [
        require_count("prefill_tokens", t) for t in _maybe_empty("prefill_tokens", prefill_tokens)
    ]
    splits = [require_count("split", s, min(rows, cols)) for s in require_list("splits", splits)]
    if not batches and not prefill_tokens:
        raise ValueError("give at least one decode batch or prefill length")
    cases = [("decode", b) for b in batches] + [("prefill", p) for p in prefill_tokens]
    for phase, t in cases:
        shp = gemm_shapes(
            model,
            phase,
            batch=t if phase == "decode" else 1,
            context=context if phase == "decode" else t,
        )
        for s in splits:
            label = "one array" if s == 1 else f"split {s}x{s} ({rows // s}x{cols // s} tiles)"
            out.append(
                {
                    "phase": phase,
                    "tokens": t,
                    "engine": label,
                    "split": s,
                    "utilization": step_utilization(
                        shp,
                        "systolic",
                        rows=rows,
                        cols=cols,
                        split=s,
                        operand_words_per_cycle=operand_words_per_cycle,
                    ),
                }
            )
        out.append(
            {
                "phase": phase,
                "tokens": t,
                "engine": "GPU tensor-core tiles",
                "split": 0,
                "utilization": step_utilization(shp, "gpu"),
            }
        )
    return pd.DataFrame(out)
