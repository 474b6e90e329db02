"""Calibration: fit a few physically meaningful factors to measured results, honestly.

The engine's structure (deployments, collectives, per-layer costs, serving modes) is fixed by
physics and sources; what no spec sheet says is how efficiently real software runs it. A small
set of factors (:data:`PARAMS`) is fitted to the measured table (:mod:`validation`):

* per hardware family (software maturity): ``compute_efficiency``, ``memory_efficiency`` and
  ``layer_overhead_us`` for NVIDIA and for AMD GPUs;
* shared by every programmable chip (kernel physics): ``kv_efficiency``,
  ``gemm_half_params_m`` (the weights one chip multiplies in one GEMM at which it runs at half
  speed: fine-grained experts, and dense layers split over many tensor-parallel chips),
  ``expert_overhead_us``, ``fp4_efficiency``, ``weight_only_efficiency`` and the request's
  fixed ``request_overhead_ms``;
* per dataflow chip: Groq's and Cerebras' per-layer pipeline time ``layer_floor_us``.

Method (deterministic, numpy only). Minimise the family-balanced pseudo-Huber log error::

    loss = sum_i  w_i * sqrt(e_i ** 2 + delta ** 2),   e_i = ln(predicted_i / measured_i),
                                                        w_i = 1 / sqrt(rows of i's source family)

within physical bounds (no memory or KV-cache read above 0.9 of peak bandwidth), by coordinate
descent: each factor in turn is set to the best of a grid of values (all grid values evaluated
in one vectorised call), eight sweeps, the grid narrowing around the current value after the
first. Log error weighs a 2x over-prediction like a 2x under-prediction; the weights keep the
largest source families from deciding alone. The loss is quadratic in errors well inside ``delta
= ln 1.5`` (a miss of up to about 1.5x reads as noise) and linear beyond: a result the engine
cannot represent (SambaNova's unpublished speculative decoding, a serving stack months younger
than the hardware) counts as one miss, not as a square that drags a family's factors away from
every other row. (Leave-one-source-out, median/p90 of the absolute error, each loss tried once
before answer lengths' spread was modelled: squared log error 17.1/52.9 %; delta = 0.15, 0.25,
0.40, 0.6: 14.2/53.2, 14.8/52.6, 14.9/51.9, 14.9/51.0 %; delta = ln 1.5 = 0.405: 15.2/51.9 %;
absolute log error 13.8/55.1 %. The median sits at a fold's edge: a tenth of delta moves it by
0.3 points. With MLPerf's answer-length spread in the rows (``output_tokens_cv``,
:func:`inference_wars.engine.workload.decode_context`), delta = ln 1.5: 14.3/51.2 %; with
MLPerf's GB300 NVL72 rows of rounds v5.1 and v6.0 added (222 rows), 14.3/51.0 %; with a decode
step's dense GEMMs slowed by the same size law as routed experts'
(:func:`inference_wars.engine.serving.dense_efficiency`: a dense layer is four GEMMs, an expert
two, so one ``gemm_half_params_m`` serves both), shipped: 12.3/47.2 %, and 45 rows beyond 35 %
(was 46). Variants of that law: the dense layer's half-size at 1.5x or 3x the expert's instead
of 2x (the GEMM count's ratio), 12.1/48.4 and 12.3/46.8 %; prefill's dense GEMMs slowed too,
13.8/49.7 %; the law in multiply-accumulates (weights times the tokens each GEMM serves, so a
large batch fills the chip), decode only / with prefill, 18.9/70.8 and 18.8/68.6 %. With the law
shipped, fitting the expert load imbalance (2.04 instead of the 1.3 assumption) or the share of
all-to-all hidden behind compute (0.47 instead of 0.7): 13.5/47.4 and 12.3/48.0 %, 51 and 48
rows beyond 35 %. Also on top of it: routed experts in 4-bit formats at their own fitted FP4
efficiency (0.37 against 0.56 for dense), 12.4/46.0 % with 48 rows beyond 35 %; host time per
running sequence per decode step fitted per GPU family (NVIDIA 0, AMD 26 us), 12.2/53.5 %.
Family weights of one over rows**x instead of the square root (x = 0.5), x = 0, 0.125, 0.25,
0.75: 12.5/50.2, 12.6/46.0, 12.6/46.6, 13.0/52.7 % (48, 43, 42, 44 rows beyond 35 %; 45 at 0.5):
within a point of each other in p90 but for the extremes, so the square root stays. Chunked
prefill riding in the decode step's idle tensor-core time (the step's memory time beyond its
compute time absorbs the prompts' maths, as Sarathi-Serve piggybacks them), all of it / half of
it: 15.8/49.4, 13.9/47.9 %. AMD's per-layer overhead held to at most 40 us (fitted 74 us): its
memory efficiency falls to 0.47 instead, 12.4/49.1 %. Tried and dropped before it, each refitted
and held out the same way: host time per running sequence per decode step, overlapped with the
step / added to it / fitted per GPU family, 14.0/52.0, 13.9/50.3, 12.8/51.3 % with 44-49 rows
still beyond 35 %; decode attention at its own fitted share of compute_efficiency, 15.8/51.5 %;
weight-only reads split into integer (fitted) and float formats (Marlin-class 0.95), 14.3/53.4
%; routed-expert weight reads at 0.8 or 0.6 of the dense read efficiency, 14.7/50.7 and
14.4/51.3 %; prefill's routed experts at the dense GEMM's efficiency, 15.6/50.0 %; the same loss
plus a hinge beyond a 1.3x miss, 16.4/50.4 %; an AMD-only KV-read efficiency, 14.7/51.8 % (these
last five on the 214 rows before the GB300 ones); FP4 tensor cores left at the 0.8 assumption
instead of fitted, 19.6/54.6 %; routed experts in 4-bit formats at their own fitted share of the
FP4 efficiency (0.67; dense FP4 stayed at 0.56), 15.4/48.1 %.)

**Leave-one-source-out** (:func:`leave_one_source_out`): for every source family in turn, the
factors are refitted without its rows and its rows predicted with that fit. Those held-out
predictions are the honest error the book reports; the spread of the refitted values is the
range shipped in ``data/calibration.csv``. ``python -m inference_wars calibrate`` writes that
file (the factors fitted to all rows, which the default estimate uses); ``--check`` verifies it.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
from pathlib import Path

import numpy as np

from ..engine import factors as _factors
from . import validation

PATH = _factors.CALIBRATION_PATH
#: (scope, factor, lowest, highest): what is fitted, where, and the grid's span.
PARAMS: tuple[tuple[str, str, float, float], ...] = (
    ("nvidia-gpu", "compute_efficiency", 0.2, 1.0),
    ("nvidia-gpu", "memory_efficiency", 0.3, 0.9),
    ("nvidia-gpu", "layer_overhead_us", 2.0, 150.0),
    ("amd-gpu", "compute_efficiency", 0.1, 1.0),
    ("amd-gpu", "memory_efficiency", 0.2, 0.9),
    ("amd-gpu", "layer_overhead_us", 2.0, 200.0),
    ("all", "kv_efficiency", 0.1, 0.9),
    ("all", "gemm_half_params_m", 0.5, 150.0),
    ("all", "expert_overhead_us", 0.5, 40.0),
    ("all", "fp4_efficiency", 0.2, 1.0),
    ("all", "weight_only_efficiency", 0.3, 1.0),
    ("all", "request_overhead_ms", 1.0, 200.0),
    ("groq-lpu", "layer_floor_us", 2.0, 100.0),
    ("cerebras-wse3", "layer_floor_us", 1.0, 60.0),
)
LOG_SCALE = frozenset(
    {
        "layer_overhead_us",
        "expert_overhead_us",
        "request_overhead_ms",
        "layer_floor_us",
        "gemm_half_params_m",
    }
)
#: Coordinate-descent sweeps; the window around each factor's value shrinks by SHRINK per sweep,
#: with GRID_POINTS values in the first COARSE_SWEEPS and FINE_POINTS after (3 sweeps of a
#: window halving each time stopped short of the minimum: the fit moved by up to 2x after more).
SWEEPS = 8
#: Where the loss turns from quadratic to linear in the log error (``ln 1.5``, about a 1.5x miss).
HUBER_DELTA = 0.405
SHRINK = 0.6
GRID_POINTS = 13
COARSE_SWEEPS = 3
FINE_POINTS = 7
METHOD = (
    "coordinate descent on family-balanced pseudo-Huber log error (delta = ln 1.5; 8 sweeps, windows shrinking 0.6x "
    "per sweep, 13-point then 7-point grids); range = span of leave-one-source-out refits"
)


@functools.cache
def _tiled(g: int) -> validation.PointInputs:
    """The measured rows repeated ``g`` times (one copy per grid value)."""
    import pandas as pd

    df = validation.measured()
    return validation.PointInputs(pd.concat([df] * g, ignore_index=True))


def _weights(df) -> np.ndarray:
    n = df.groupby("source_family")["id"].transform("count").to_numpy(float)
    return 1.0 / np.sqrt(n)


def _grid(
    lo: float, hi: float, key: str, centre: float | None, width: float, points: int = GRID_POINTS
) -> np.ndarray:
    if key in LOG_SCALE:
        a, b = np.log(lo), np.log(hi)
        if centre is not None:
            c = np.log(centre)
            a, b = max(a, c - width * (b - a) / 2), min(b, c + width * (b - a) / 2)
        return np.round(np.exp(np.linspace(a, b, points)), 4)
    if centre is not None:
        half = width * (hi - lo) / 2
        lo, hi = max(lo, centre - half), min(hi, centre + half)
    return np.round(np.linspace(lo, hi, points), 4)


def fit(train: np.ndarray | None = None) -> dict[tuple[str, str], float]:
    """Fit :data:`PARAMS` on the measured rows where ``train`` is True (all rows by default).
    Returns ``{(scope, factor): value}``; a factor with no training rows in its scope keeps its
    default and is left out."""
    df = validation.measured()
    pts1 = validation._inputs()
    n = len(df)
    train = np.ones(n, bool) if train is None else np.asarray(train, bool)
    w = _weights(df[train].reset_index(drop=True))
    G = GRID_POINTS
    tiled = _tiled(G)
    in_scope = {s: pts1.scope_mask(s) for s, _, _, _ in PARAMS}
    current: dict[tuple[str, str], float] = {}
    rows = np.flatnonzero(train)
    idx = np.concatenate([rows + k * n for k in range(G)])
    for sweep in range(SWEEPS):
        for scope, key, lo, hi in PARAMS:
            sel = in_scope[scope] & train
            if not sel.any():
                continue
            centre = current.get((scope, key)) if sweep else None
            points = GRID_POINTS if sweep < COARSE_SWEEPS else FINE_POINTS
            grid = _grid(lo, hi, key, centre, SHRINK**sweep, points)
            now = pts1.factor_arrays(use_fitted=False, fitted=current)
            cols = {k: np.tile(np.asarray(v, float), G) for k, v in now.__dict__.items()}
            padded = np.resize(grid, G)  # the tiled copies beyond len(grid) are not evaluated
            cols[key] = np.where(np.tile(in_scope[scope], G), np.repeat(padded, n), cols[key])
            f = validation.serving.Factors(**cols)
            pred = tiled.evaluate(f, idx[: len(grid) * len(rows)]).reshape(len(grid), len(rows))
            err = np.sqrt(np.log(pred / pts1.value[rows]) ** 2 + HUBER_DELTA**2)
            loss = (err * w).sum(axis=1)
            current[(scope, key)] = float(grid[int(np.argmin(loss))])
    return current


def leave_one_source_out(families=None) -> tuple[np.ndarray, dict[str, dict]]:
    """Held-out prediction of every measured row (its source family left out of the fit) and
    the fit of each fold ``{family: {(scope, factor): value}}``; ``families`` limits the folds
    (rows of the other families stay NaN)."""
    df = validation.measured()
    pred = np.full(len(df), np.nan)
    fits = {}
    for fam in validation.source_families() if families is None else families:
        out = (df["source_family"] == fam).to_numpy()
        if not out.any():
            continue
        fitted = fit(~out)
        fits[fam] = fitted
        pred[out] = validation.predict(fitted=fitted)["predicted"].to_numpy()[out]
    return pred, fits


LOSO_PATH = validation.HELD_OUT_PATH
LOSO_COLUMNS = ("id", "source_family", "predicted_held_out")


def run(fit_date: str | None = None) -> tuple[list[dict], list[dict]]:
    """``(calibration rows, held-out predictions)``: the fit to all rows with the span of the
    leave-one-source-out refits, and every measured row's prediction with its source family
    left out of the fit (``data/measured_predictions.csv``, which the book's error tables read)."""
    date = fit_date or _dt.date.today().isoformat()
    full = fit()
    pred, folds = leave_one_source_out()
    df = validation.measured()
    loso = [
        {"id": i, "source_family": f, "predicted_held_out": float(f"{p:.6g}")}
        for i, f, p in zip(df["id"], df["source_family"], pred)
    ]
    out = []
    for (scope, key), v in full.items():
        vals = [f[(scope, key)] for f in folds.values() if (scope, key) in f] + [v]
        n_pts = int(((df["family"] == scope) | (df["chip"] == scope) | (scope == "all")).sum())
        default = _factors.defaults("base").get(key, float("nan"))
        out.append(
            {
                "scope": scope,
                "key": key,
                "value": v,
                "low": min(vals),
                "high": max(vals),
                "default": default,
                "n_points": n_pts,
                "method": METHOD,
                "fit_date": date,
            }
        )
    return out, loso


def write(rows: list[dict], path: Path = PATH, columns=_factors.CAL_COLUMNS) -> Path:
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return Path(path)


def loso_path_for(path: Path) -> Path:
    """Where the held-out predictions go next to a calibration file."""
    path = Path(path)
    return LOSO_PATH if path == PATH else path.with_name(path.stem + "_held_out.csv")


def check_held_out(path: Path = LOSO_PATH) -> list[str]:
    """Differences between a fresh leave-one-source-out run and the predictions at ``path``."""
    pred, _ = leave_one_source_out()
    df = validation.measured()
    old = validation.read_held_out(path)
    problems = [f"{i}: not in {path}" for i in df["id"] if i not in old]
    problems += [
        f"{i}: file {old[i]:.6g} vs fresh {p:.6g}"
        for i, p in zip(df["id"], pred)
        if i in old and abs(old[i] - p) > 1e-5 * abs(p)
    ]
    return problems


def check(path: Path = PATH) -> list[str]:
    """Differences between a fresh fit to all rows and the values in the file at ``path``."""
    full = fit()
    with Path(path).open(newline="", encoding="utf-8") as fh:
        old = {(r["scope"], r["key"]): float(r["value"]) for r in csv.DictReader(fh)}
    problems = []
    for k, v in full.items():
        if k not in old:
            problems.append(f"{k[0]} {k[1]}: missing from {path}")
        elif abs(old[k] - v) > 1e-9:
            problems.append(f"{k[0]} {k[1]}: file {old[k]} vs fit {v}")
    for k in old.keys() - full.keys():
        problems.append(f"{k[0]} {k[1]}: in {path} but not fitted")
    return problems


def fitted_table() -> list[dict]:
    """The shipped fit as rows (``scope``, ``key``, ``value``, ``low``, ``high``, ``default``,
    ``n_points``), for tables in the book."""
    from ..engine.factors import fitted_rows

    return [dict(r) for r in fitted_rows()]
