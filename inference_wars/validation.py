"""The model against measured reality: a table of published measurements and the model's
prediction for each.

``data/measured.csv`` holds published **measured** inference results (benchmark tables,
vendor-measured speeds, serving-engine benchmarks; never spec sheets), one row per number,
each with its system, model, number format, batch, input/output lengths, metric, software,
source and date (schema: :class:`MeasuredRow`). :func:`predict` runs every row through the same
engine as :func:`inference_wars.estimate`, vectorised, and reports::

    APE = |predicted - measured| / measured          (absolute percentage error)
    log_ratio = ln(predicted / measured)              (> 0: the model is optimistic)

Rows marked ``catalog_fit`` were used to set a catalog number or default (for example the
per-layer latency floors of Groq and Cerebras); they are not independent tests of the model and
:func:`error_summary` can leave them out.

A row with ``batch_is_cap`` ran "at maximum load": the serving engine chose the batch, up to
``batch``. The model then serves ``min(batch, sequences that fit in memory)``.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from . import catalog, serving
from .catalog import DATA_DIR, CatalogError, _blank_to_none, _check_source, _read_rows
from .formats import bits_per_weight, check_format_on_chip, default_kv_format
from .hardware import hardware_arrays
from .workload import ModelArrays, model_arrays

Metric = Literal["tokens_per_s_per_user", "tokens_per_s", "ttft_s"]

#: Regimes the error table is broken down by.
REGIMES = ("decode, per user", "prefill (TTFT)", "throughput, decode-heavy", "throughput, prefill-heavy")


class MeasuredRow(BaseModel):
    """One published measurement."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    chip: str
    n_chips: int | None = None
    model: str
    model_as_published: str
    precision: str
    batch: int
    batch_is_cap: bool
    input_tokens: int
    output_tokens: int
    metric: Metric
    value: float
    software: str
    source: str
    date: str
    catalog_fit: bool
    note: str | None = None

    _blank = field_validator("n_chips", "note", mode="before")(_blank_to_none)

    _date = field_validator("date")(catalog.check_date)

    @model_validator(mode="after")
    def _positive(self):
        if not (math.isfinite(self.value) and self.value > 0):
            raise ValueError(f"value must be a positive number, got {self.value}")
        for name in ("batch", "input_tokens", "output_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.n_chips is not None and self.n_chips < 1:
            raise ValueError("n_chips must be at least 1 (or empty for the fewest that fit)")
        return self


@functools.cache
def _rows() -> tuple[MeasuredRow, ...]:
    rows = _read_rows(DATA_DIR / "measured.csv", MeasuredRow)
    seen = set()
    for line_no, r in enumerate(rows, start=2):
        where = f"measured.csv:{line_no}"
        if r.id in seen:
            raise CatalogError(f"{where}: duplicate id {r.id}")
        seen.add(r.id)
        _check_source(where, r.source)
        try:
            chip = catalog.get_chip(r.chip)
            catalog.get_model(r.model)
            check_format_on_chip(catalog.get_format(r.precision).id, chip)
        except ValueError as exc:
            raise CatalogError(f"{where}: {exc}") from None
    return tuple(rows)


def regime(metric: str, batch: int, input_tokens: int, output_tokens: int) -> str:
    """Which of :data:`REGIMES` a measurement belongs to."""
    if metric == "ttft_s":
        return REGIMES[1]
    if metric == "tokens_per_s_per_user":
        return REGIMES[0]
    return REGIMES[3] if input_tokens >= 4 * output_tokens else REGIMES[2]


def family(chip: str) -> str:
    """Calibration family: ``gpu`` (HBM GPUs) or ``asic`` (everything else)."""
    return "gpu" if catalog.get_chip(chip).category == "gpu" else "asic"


def measured():
    """The measured table as a DataFrame, with ``regime`` and ``family`` columns added."""
    import pandas as pd

    df = pd.DataFrame([r.model_dump() for r in _rows()])
    df["regime"] = [regime(m, b, i, o) for m, b, i, o in zip(df["metric"], df["batch"], df["input_tokens"],
                                                              df["output_tokens"])]
    df["family"] = [family(c) for c in df["chip"]]
    return df


class PointInputs:
    """Arrays (one entry per measured row) that :func:`serving.evaluate` needs."""

    def __init__(self, df) -> None:
        from . import api

        models, hw_pairs, n, batch, wbits, kbits = [], [], [], [], [], []
        for r in df.itertuples(index=False):
            fmt = catalog.get_format(r.precision).id
            kv = default_kv_format(fmt)
            if r.n_chips is None or (isinstance(r.n_chips, float) and math.isnan(r.n_chips)):
                chips = api.estimate(r.model, r.chip, batch=1 if r.batch_is_cap else r.batch,
                                     input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                                     precision=fmt).n_chips
            else:
                chips = int(r.n_chips)
            b = int(r.batch)
            if r.batch_is_cap:
                fit = api.max_concurrent_sequences(r.model, r.chip, chips, r.input_tokens + r.output_tokens,
                                                   precision=fmt)
                b = max(1, min(b, fit))
            models.append(r.model)
            hw_pairs.append((r.chip, fmt))
            n.append(chips)
            batch.append(b)
            wbits.append(bits_per_weight(fmt))
            kbits.append(bits_per_weight(kv))
        self.m: ModelArrays = model_arrays(models)
        self.hw = hardware_arrays(hw_pairs, "base")
        self.n_chips = np.array(n, float)
        self.batch = np.array(batch, float)
        self.input_tokens = df["input_tokens"].to_numpy(float)
        self.output_tokens = df["output_tokens"].to_numpy(float)
        self.weight_bits = np.array(wbits)
        self.kv_bits = np.array(kbits)
        self.metric = df["metric"].to_numpy(object)
        self.value = df["value"].to_numpy(float)

    def evaluate(self, **factors) -> np.ndarray:
        """Predicted metric per row; ``factors`` replace assumptions and may be arrays that
        broadcast against the rows (e.g. shape ``(G, 1)`` to evaluate ``G`` settings at once)."""
        from . import api

        a = api.assumptions_for("base").__dict__ | factors
        res = serving.evaluate(self.m, self.hw, self.n_chips, self.batch, self.input_tokens, self.output_tokens,
                               self.weight_bits, self.kv_bits, serving.Assumptions(**a))
        out = np.zeros(np.broadcast_shapes(*(np.shape(v) for v in factors.values()), self.value.shape))
        for metric in ("tokens_per_s_per_user", "tokens_per_s", "ttft_s"):
            sel = self.metric == metric
            out[..., sel] = np.broadcast_to(res[metric], out.shape)[..., sel]
        return out


@functools.cache
def _inputs() -> PointInputs:
    return PointInputs(measured())


def predict(calibrated: bool = False):
    """The measured table with the model's ``predicted`` value, ``batch_used``, ``n_chips_used``,
    ``ape`` and ``log_ratio`` per row. ``calibrated=True`` uses the fitted efficiency factors
    (:mod:`inference_wars.calibration`) for the families that have them."""
    df = measured()
    pts = _inputs()
    factors = {}
    if calibrated:
        from . import calibration
        factors = calibration.with_fitted(calibration.factor_arrays(list(df["chip"])),
                                          calibration.default_factors())
    pred = pts.evaluate(**factors)
    df["n_chips_used"] = pts.n_chips.astype(int)
    df["batch_used"] = pts.batch.astype(int)
    df["predicted"] = pred
    df["ape"] = np.abs(pred - df["value"]) / df["value"]
    df["log_ratio"] = np.log(pred / df["value"])
    return df


def error_summary(df, by: str | list[str] | None = None, independent_only: bool = False):
    """Median and 90th-percentile absolute percentage error (in %) and the row count, overall
    or per group. ``independent_only`` drops rows marked ``catalog_fit``."""
    import pandas as pd

    if independent_only:
        df = df[~df["catalog_fit"]]

    def stats(g):
        return pd.Series({"n": len(g), "median_ape_pct": 100 * g["ape"].median(),
                          "p90_ape_pct": 100 * g["ape"].quantile(0.9),
                          "median_log_ratio": g["log_ratio"].median()})

    if by is None:
        return stats(df)
    return df.groupby(by, observed=True).apply(stats, include_groups=False)
