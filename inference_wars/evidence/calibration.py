"""Calibration: fit a few physically meaningful factors to measured results, honestly.

The engine's structure (deployments, collectives, per-layer costs, serving modes) is fixed by
physics and sources; what no spec sheet says is how efficiently real software runs it. A small
set of factors (:data:`PARAMS`) is fitted to the measured table (:mod:`validation`):

* per hardware family (software maturity): ``compute_efficiency``, ``memory_efficiency`` and
  ``layer_overhead_us`` for NVIDIA and for AMD GPUs, and AMD's own ``expert_overhead_us``
  (ROCm's mixture-of-experts kernels: every other chip shares the one below);
* shared by every programmable chip (kernel physics): ``kv_efficiency``,
  ``gemm_half_params_m`` (the weights one chip multiplies in one GEMM at which it runs at half
  speed: fine-grained experts, and dense layers split over many tensor-parallel chips),
  ``expert_overhead_us``, ``fp4_efficiency``, ``weight_only_efficiency`` and
  ``overlap_exponent`` (how well a kernel overlaps its maths with its reads:
  :func:`inference_wars.engine.serving.overlapped_s`). The request's fixed
  ``request_overhead_ms`` stays at its sourced assumption (20 ms) on GPUs and TPUs: fitted, it
  followed a handful of multi-node results to 72 ms (``data/calibration_experiments.csv``,
  ``request-overhead-assumed``);
* per dataflow chip: Groq's and Cerebras' per-layer pipeline time ``layer_floor_us``;
* over every result, the serving software's maturity at the result's date:
  ``young_software_slowdown`` (:func:`inference_wars.engine.software.maturity`,
  :func:`inference_wars.evidence.validation.software_maturity`), how much slower an engine ran a
  model architecture in the months after it first shipped than once its kernels matured;
* per serving engine (:mod:`inference_wars.engine.software`): ``engine_efficiency`` of vLLM,
  SGLang and AMD's ATOM relative to the reference (TensorRT-LLM, whose factor is 1), fitted on
  the rows that name them on any hardware;
* for AWS Inferentia2, the one other chip with measured results of its own (Neuron's tables):
  its ``layer_overhead_us``, ``compute_efficiency`` and ``request_overhead_ms``. Every other
  chip without factors of its own (TPUs included, whose measured rows test this) borrows
  NVIDIA's fitted software factors (:data:`inference_wars.engine.factors.BORROWING`).

Each factor is fitted on the rows whose predictions take its value
(:func:`inference_wars.engine.factors.fitted_by`): a chip's own scope wins over its family's,
and a family that borrows NVIDIA's factors is predicted with them but does not fit them.

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
every other row.

**What was tried.** Every loss, structure and data change tried against the shipped fit is a
row of ``data/calibration_experiments.csv`` (:func:`experiments`), with its leave-one-source-out
median and 90th-percentile error, the rows beyond a 35 % miss, and whether it shipped, was
superseded or was dropped; the validation appendix renders it. Among them: a squared log error
and other values of ``delta``; the GEMM-size law
(:func:`inference_wars.engine.serving.dense_efficiency`); the fitted overlap of maths and reads
now shipped (:func:`inference_wars.engine.serving.overlapped_s`), with fixed exponents beside it;
and the ideas they beat.

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
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import catalog
from ..catalog import DATA_DIR, blank_to_none, read_rows
from ..engine import factors as _factors
from ..engine.software import MATURITY_KEY
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
    ("amd-gpu", "expert_overhead_us", 0.5, 80.0),
    ("all", "kv_efficiency", 0.1, 0.9),
    ("all", "gemm_half_params_m", 0.5, 150.0),
    ("all", "expert_overhead_us", 0.5, 40.0),
    ("all", "fp4_efficiency", 0.2, 1.0),
    ("all", "weight_only_efficiency", 0.3, 1.0),
    ("all", "overlap_exponent", 1.0, 8.0),
    ("groq-lpu", "layer_floor_us", 2.0, 100.0),
    ("cerebras-wse3", "layer_floor_us", 1.0, 60.0),
    ("inferentia2", "layer_overhead_us", 2.0, 400.0),
    ("inferentia2", "compute_efficiency", 0.05, 1.0),
    ("inferentia2", "request_overhead_ms", 1.0, 200.0),
    ("vllm", "engine_efficiency", 0.4, 2.5),
    ("sglang", "engine_efficiency", 0.4, 2.5),
    ("atom", "engine_efficiency", 0.4, 2.5),
    ("all", "young_software_slowdown", 0.0, 0.9),
)
LOG_SCALE = frozenset(
    {
        "layer_overhead_us",
        "expert_overhead_us",
        "request_overhead_ms",
        "layer_floor_us",
        "gemm_half_params_m",
        "overlap_exponent",
        "engine_efficiency",
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
    w = np.zeros(n)
    w[train] = _weights(df[train].reset_index(drop=True))
    G = GRID_POINTS
    tiled = _tiled(G)
    # a factor is fitted on the rows whose predictions take its value (narrower scopes win; a
    # family borrowing the reference family's factors is predicted with them, not fitted to them)
    scopes = {k: [s for s, k2, _, _ in PARAMS if k2 == k] for _, k, _, _ in PARAMS}
    in_scope = {(s, k): pts1.fit_mask(s, k, scopes[k]) for s, k, _, _ in PARAMS}
    current: dict[tuple[str, str], float] = {}
    for sweep in range(SWEEPS):
        for scope, key, lo, hi in PARAMS:
            sel = in_scope[(scope, key)] & train
            if not sel.any():
                continue
            centre = current.get((scope, key)) if sweep else None
            points = GRID_POINTS if sweep < COARSE_SWEEPS else FINE_POINTS
            grid = _grid(lo, hi, key, centre, SHRINK**sweep, points)
            padded = np.resize(grid, G)  # the tiled copies beyond len(grid) are not evaluated
            if key in (_factors.ENGINE_KEY, MATURITY_KEY):  # they scale other factors: rebuild
                each = [
                    pts1.factor_arrays(use_fitted=False, fitted={**current, (scope, key): g})
                    for g in padded
                ]
                cols = {
                    k: np.concatenate([np.asarray(getattr(e, k), float) for e in each])
                    for k in each[0].__dict__
                }
            else:
                now = pts1.factor_arrays(use_fitted=False, fitted=current)
                cols = {k: np.tile(np.asarray(v, float), G) for k, v in now.__dict__.items()}
                cols[key] = np.where(
                    np.tile(in_scope[(scope, key)], G), np.repeat(padded, n), cols[key]
                )
            # only the training rows whose factors differ between grid values are evaluated: every
            # other row predicts the same for each value and adds the same constant to each loss
            moved = np.zeros(n, bool)
            for v in cols.values():
                v = v.reshape(G, n)[: len(grid)]
                moved |= ~((v == v[0]) | (np.isnan(v) & np.isnan(v[0]))).all(axis=0)
            rows = np.flatnonzero(moved & train)
            if not rows.size:  # no training row feels it: every value ties, the first wins
                current[(scope, key)] = float(grid[0])
                continue
            idx = np.concatenate([rows + g * n for g in range(len(grid))])
            f = validation.serving.Factors(**cols)
            pred = tiled.evaluate(f, idx).reshape(len(grid), len(rows))
            err = np.sqrt(np.log(pred / pts1.value[rows]) ** 2 + HUBER_DELTA**2)
            loss = (err * w[rows]).sum(axis=1)
            current[(scope, key)] = float(grid[int(np.argmin(loss))])
    return current


def _fold(family: str) -> tuple[np.ndarray, dict[tuple[str, str], float]]:
    """One leave-one-source-out fold: the fit without ``family``'s rows, and every row's
    prediction under it."""
    out = (validation.measured()["source_family"] == family).to_numpy()
    fitted = fit(~out)
    return validation.predict(fitted=fitted)["predicted"].to_numpy(), fitted


def leave_one_source_out(families=None, jobs: int = 1) -> tuple[np.ndarray, dict[str, dict]]:
    """Held-out prediction of every measured row (its source family left out of the fit) and
    the fit of each fold ``{family: {(scope, factor): value}}``; ``families`` limits the folds
    (rows of the other families stay NaN). ``jobs > 1`` runs the folds in that many processes
    (the same result: each fold is deterministic and independent of the others)."""
    df = validation.measured()
    pred = np.full(len(df), np.nan)
    names = validation.source_families() if families is None else list(families)
    names = [f for f in names if (df["source_family"] == f).any()]
    if jobs > 1 and len(names) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(jobs, len(names))) as pool:
            results = list(pool.map(_fold, names))
    else:
        results = [_fold(f) for f in names]
    fits = {}
    for fam, (every, fitted) in zip(names, results, strict=True):
        out = (df["source_family"] == fam).to_numpy()
        fits[fam] = fitted
        pred[out] = every[out]
    return pred, fits


LOSO_PATH = validation.HELD_OUT_PATH
LOSO_COLUMNS = ("id", "source_family", "predicted_held_out")


def run(fit_date: str | None = None, jobs: int = 1) -> tuple[list[dict], list[dict]]:
    """``(calibration rows, held-out predictions)``: the fit to all rows with the span of the
    leave-one-source-out refits, and every measured row's prediction with its source family
    left out of the fit (``data/measured_predictions.csv``, which the book's error tables read);
    ``jobs`` processes run the folds (:func:`leave_one_source_out`)."""
    date = fit_date or _dt.date.today().isoformat()
    full = fit()
    pred, folds = leave_one_source_out(jobs=jobs)
    df = validation.measured()
    loso = [
        {"id": i, "source_family": f, "predicted_held_out": float(f"{p:.6g}")}
        for i, f, p in zip(df["id"], df["source_family"], pred)
    ]
    out = []
    for (scope, key), v in full.items():
        vals = [f[(scope, key)] for f in folds.values() if (scope, key) in f] + [v]
        n_pts = int(
            (
                (df["family"] == scope)
                | (df["chip"] == scope)
                | (df["engine"] == scope)
                | (scope == "all")
            ).sum()
        )
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


def check(path: Path = PATH, full: dict[tuple[str, str], float] | None = None) -> list[str]:
    """Differences between a fresh fit to all rows (``full``: one already computed, else fitted
    now) and the values in the file at ``path``."""
    full = fit() if full is None else full
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


EXPERIMENTS_PATH = DATA_DIR / "calibration_experiments.csv"


class ExperimentRow(BaseModel):
    """One change tried against the shipped fit, scored by leave-one-source-out refits: a
    ``loss`` (how misses are weighed), a ``structure`` (what the engine models or fits) or
    ``data`` (rows added to the measured table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    stage: Literal["loss", "structure", "data"]
    idea: str
    rows: int | None = Field(default=None, ge=1)
    held_out_median_pct: float = Field(ge=0)
    held_out_p90_pct: float = Field(ge=0)
    rows_beyond_35: int | None = Field(default=None, ge=0)
    outcome: Literal["shipped", "superseded", "dropped"]
    date: str | None = None
    #: the forward test the fit was read on while it was shipped (``data/forward/`` then: results
    #: no fit had seen): its row count, median and 90th-percentile error; blank before there was one
    forward_rows: int | None = Field(default=None, ge=1)
    forward_median_pct: float | None = Field(default=None, ge=0)
    forward_p90_pct: float | None = Field(default=None, ge=0)

    _blank = field_validator(
        "rows",
        "rows_beyond_35",
        "date",
        "forward_rows",
        "forward_median_pct",
        "forward_p90_pct",
        mode="before",
    )(blank_to_none)
    _date = field_validator("date")(lambda v: v if v is None else catalog.check_date(v))


@functools.cache
def _experiment_rows() -> tuple[ExperimentRow, ...]:
    rows = tuple(read_rows(EXPERIMENTS_PATH, ExperimentRow))
    catalog.unique_by(EXPERIMENTS_PATH.name, rows, "id")  # a repeated id names both lines
    if sum(r.outcome == "shipped" for r in rows) != 1:
        raise catalog.CatalogError(f"{EXPERIMENTS_PATH.name}: exactly one row must be shipped")
    return rows


def experiments():
    """``data/calibration_experiments.csv`` as a DataFrame, one row per change tried (in the
    order tried): its held-out median and p90 error (%), rows beyond a 35 % miss, and outcome.

    >>> e = experiments().set_index("id")
    >>> e.loc["loss-squared", ["held_out_median_pct", "held_out_p90_pct"]].tolist()
    [17.1, 52.9]
    """
    import pandas as pd

    df = pd.DataFrame([r.model_dump() for r in _experiment_rows()])
    return df.astype({"rows": "Int64", "rows_beyond_35": "Int64"})
