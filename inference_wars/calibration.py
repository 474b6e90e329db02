"""Calibration: fit the achievable-efficiency factors to the measured table, honestly.

Method (deterministic, two parameters per family). For the ``gpu`` family the factors
``compute_efficiency`` (binds prefill and large-batch throughput) and ``memory_efficiency``
(binds small-batch decode) are chosen on a grid to minimise the squared log error over the
family's measured rows::

    (c*, m*) = argmin over the grid of  sum_i ln(predicted_i(c, m) / measured_i) ** 2

with ``c`` in 0.20..1.00 and ``m`` in 0.30..1.00 (steps of 0.01). Log error weights a 2x
over-prediction like a 2x under-prediction and keeps large throughput numbers from dominating.
The fit is cross-validated by **leave-one-out**: each row is predicted with the factors fitted
to all other rows, and the median and 90th-percentile absolute percentage error of those
held-out predictions are reported next to the in-sample error.

The ``asic`` family (Groq, Cerebras, ...) is not fitted: its few published speeds were used to
set the catalog's latency floors, so fitting to them again would be circular.

``python -m inference_wars calibrate`` re-runs the fit and writes ``data/calibration.csv``;
``--check`` verifies the shipped file is reproduced. The defaults in ``assumptions.csv`` are
not changed: ``iw.estimate(..., calibrated=True)`` opts in.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
from pathlib import Path

import numpy as np

from . import catalog
from .catalog import DATA_DIR

PATH = DATA_DIR / "calibration.csv"
PARAMS = ("compute_efficiency", "memory_efficiency")
GRID = {"compute_efficiency": (0.20, 1.00, 0.01), "memory_efficiency": (0.30, 1.00, 0.01)}
FITTED_FAMILIES = ("gpu",)
METHOD = ("grid search minimising the sum of squared ln(predicted/measured) over the family's rows; "
          "leave-one-out cross-validation")
COLUMNS = ("family", "key", "value", "default", "grid", "n_points", "fit_median_ape_pct", "fit_p90_ape_pct",
           "loo_median_ape_pct", "loo_p90_ape_pct", "default_median_ape_pct", "default_p90_ape_pct", "method",
           "fit_date")


def default_factors() -> dict[str, float]:
    """The base values of the fitted factors in ``assumptions.csv``."""
    return {k: catalog.assumption(k, "base") for k in PARAMS}


def _grid_axes() -> list[np.ndarray]:
    axes = []
    for k in PARAMS:
        lo, hi, step = GRID[k]
        axes.append(np.round(np.arange(lo, hi + step / 2, step), 4))
    return axes


def fit(rows=None) -> dict:
    """Fit one family's rows (a slice of :func:`validation.measured`). Returns the factors, the
    in-sample and leave-one-out predictions and errors."""
    from . import validation

    df = validation.measured() if rows is None else rows
    pts = validation.PointInputs(df)
    c_axis, m_axis = _grid_axes()
    C, M = (g.ravel()[:, None] for g in np.meshgrid(c_axis, m_axis, indexing="ij"))
    pred = pts.evaluate(compute_efficiency=C, memory_efficiency=M)          # (G, P)
    sq = np.log(pred / pts.value) ** 2
    total = sq.sum(axis=1)
    best = int(np.argmin(total))
    loo_idx = np.argmin(total[:, None] - sq, axis=0)                           # best grid row without point i
    loo_pred = pred[loo_idx, np.arange(pred.shape[1])]
    default = pts.evaluate()
    ape = lambda p: np.abs(p - pts.value) / pts.value  # noqa: E731
    return {
        "factors": {"compute_efficiency": float(C[best, 0]), "memory_efficiency": float(M[best, 0])},
        "fit_pred": pred[best], "loo_pred": loo_pred, "default_pred": default,
        "fit_ape": ape(pred[best]), "loo_ape": ape(loo_pred), "default_ape": ape(default),
        "loo_factors": np.stack([C[loo_idx, 0], M[loo_idx, 0]], axis=1),
    }


def run(fit_date: str | None = None) -> list[dict]:
    """Fit every family in :data:`FITTED_FAMILIES`; rows for ``calibration.csv``."""
    from . import validation

    df = validation.measured()
    date = fit_date or _dt.date.today().isoformat()
    defaults = default_factors()
    out = []
    for fam in FITTED_FAMILIES:
        rows = df[df["family"] == fam].reset_index(drop=True)
        r = fit(rows)
        pct = lambda a, q: round(float(100 * np.quantile(a, q)), 2)  # noqa: E731
        for k in PARAMS:
            lo, hi, step = GRID[k]
            out.append({
                "family": fam, "key": k, "value": round(r["factors"][k], 4), "default": defaults[k],
                "grid": f"{lo}:{hi}:{step}", "n_points": len(rows),
                "fit_median_ape_pct": pct(r["fit_ape"], 0.5), "fit_p90_ape_pct": pct(r["fit_ape"], 0.9),
                "loo_median_ape_pct": pct(r["loo_ape"], 0.5), "loo_p90_ape_pct": pct(r["loo_ape"], 0.9),
                "default_median_ape_pct": pct(r["default_ape"], 0.5),
                "default_p90_ape_pct": pct(r["default_ape"], 0.9),
                "method": METHOD, "fit_date": date,
            })
    return out


def write(rows: list[dict], path: Path = PATH) -> Path:
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return Path(path)


@functools.cache
def shipped() -> tuple[dict, ...]:
    """The rows of the shipped ``data/calibration.csv`` (numbers as floats)."""
    if not PATH.exists():
        raise catalog.CatalogError("data/calibration.csv is missing: run `python -m inference_wars calibrate`")
    with PATH.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["key"] not in PARAMS:
            raise catalog.CatalogError(f"calibration.csv: unknown key {r['key']!r}")
        for k in COLUMNS:
            if k not in ("family", "key", "grid", "method", "fit_date"):
                r[k] = float(r[k])
        if not 0 < r["value"] <= 1:
            raise catalog.CatalogError(f"calibration.csv: {r['key']} must be in (0, 1], got {r['value']}")
    return tuple(rows)


def factors(family: str = "gpu") -> dict[str, float]:
    """Fitted factors of one family (empty for a family that is not fitted)."""
    return {r["key"]: r["value"] for r in shipped() if r["family"] == family}


def factor_arrays(chip_ids) -> dict[str, np.ndarray]:
    """Per-chip arrays of the fitted factors; NaN where the chip's family is not fitted (the
    caller keeps its assumption there)."""
    from .validation import family

    fams = [family(c) for c in chip_ids]
    return {k: np.array([factors(f).get(k, np.nan) for f in fams], float) for k in PARAMS}


def with_fitted(fitted: dict[str, np.ndarray], assumptions: dict) -> dict:
    """``assumptions`` with the fitted factors in place: each entry of :func:`factor_arrays`
    replaces its assumption, except where it is NaN (a family that is not fitted)."""
    return assumptions | {k: np.where(np.isnan(v), assumptions[k], v) for k, v in fitted.items()}


def check(path: Path = PATH) -> list[str]:
    """Differences between a fresh fit and the file at ``path`` (ignoring ``fit_date``)."""
    fresh = run(fit_date="-")
    with Path(path).open(newline="", encoding="utf-8") as fh:
        old = list(csv.DictReader(fh))
    problems = []
    if len(old) != len(fresh):
        return [f"{len(old)} rows in {path}, a fresh fit gives {len(fresh)}"]
    for a, b in zip(old, fresh):
        for k in COLUMNS:
            if k == "fit_date":
                continue
            if str(a[k]) != str(b[k]):
                problems.append(f"{b['family']} {b['key']} {k}: file {a[k]} vs fit {b[k]}")
    return problems
