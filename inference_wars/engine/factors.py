"""The engine's modelling factors: sourced assumptions, and the few fitted per hardware family.

Every factor has a default in ``data/assumptions.csv`` (value, low, high, source). A handful
of physically meaningful factors are *fitted* to measured results per hardware family
(:func:`inference_wars.engine.hardware.family`) or per chip, and shipped in ``data/calibration.csv``
with the range their leave-one-source-out refits span (:mod:`inference_wars.evidence.calibration`
writes that file). A fitted value replaces the default for its family or chip; a chip's own
fitted value wins over its family's.

The serving engine is one more factor: ``engine_efficiency`` (fitted per engine of
``data/engines.csv``, scope = the engine's id; 1 for the reference engine and any engine not
fitted) multiplies the compute, memory and KV-cache efficiencies of a chip it runs on and divides
its kernel overheads (:func:`engine_efficiency`, :func:`factor_arrays`'s ``engines``): an engine
``e`` times the reference's speed runs its kernels and launches them ``e`` times as fast.

A *scenario* reads every factor at its base value, or at the bound that favours the hardware
(``optimistic``) or disfavours it (``pessimistic``); :data:`DIRECTION` says which bound is
which.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Collection, Sequence

import numpy as np

from .. import catalog
from ..catalog import DATA_DIR, CatalogError  # noqa: F401  (re-exported for calibration)
from ..errors import UnknownNameError, require_positive
from .hardware import FAMILIES, family, read_only
from .serving import Factors
from .software import MATURITY_KEY, default_engine, maturity

CALIBRATION_PATH = DATA_DIR / "calibration.csv"

#: +1 when a larger value helps the hardware (faster or cheaper), -1 when it hurts.
DIRECTION: dict[str, int] = {
    "compute_efficiency": +1,
    "moe_efficiency": +1,
    "gemm_half_params_m": -1,
    "fp4_efficiency": +1,
    "weight_only_efficiency": +1,
    "memory_efficiency": +1,
    "kv_efficiency": +1,
    "sram_efficiency": +1,
    "interconnect_efficiency": +1,
    "collective_latency_us": -1,
    "scaleout_latency_us": -1,
    "layer_overhead_us": -1,
    "expert_overhead_us": -1,
    "young_software_slowdown": -1,
    "expert_imbalance": -1,
    "layer_floor_us": -1,
    "request_overhead_ms": -1,
    "comm_overlap": +1,
    "overlap_exponent": +1,
    "engine_efficiency": +1,
    "mtp_acceptance": +1,
    "mtp_acceptance_decay": +1,
    "max_batch_per_instance": +1,
    "usable_memory_fraction": +1,
    "activation_bytes": -1,
    "pue": -1,
    "usd_per_kwh": -1,
    "amortization_years": +1,
    "utilization": +1,
}
#: Factors that are fractions in (0, 1].
FRACTIONS = frozenset(
    {
        "compute_efficiency",
        "moe_efficiency",
        "fp4_efficiency",
        "weight_only_efficiency",
        "memory_efficiency",
        "kv_efficiency",
        "sram_efficiency",
        "interconnect_efficiency",
        "usable_memory_fraction",
        "utilization",
        "comm_overlap",
        "mtp_acceptance",
        "mtp_acceptance_decay",
    }
)
#: Factors with no row in assumptions.csv: the chip's catalog number is the default.
FROM_CHIP = frozenset({"layer_floor_us"})
#: The factor fitted per serving engine, and the efficiencies it multiplies (reads capped at
#: :data:`MAX_READ_EFFICIENCY` of peak bandwidth, as the fit bounds every family's own).
ENGINE_KEY = "engine_efficiency"
ENGINE_SCALES = ("compute_efficiency", "memory_efficiency", "kv_efficiency")
MAX_READ_EFFICIENCY = 0.9
CAL_COLUMNS = ("scope", "key", "value", "low", "high", "default", "n_points", "method", "fit_date")


def _bound(value: float, low: float, high: float, key: str, scenario: str) -> float:
    if scenario == "base":
        return value
    good, bad = (high, low) if DIRECTION[key] > 0 else (low, high)
    return good if scenario == "optimistic" else bad


def check_scenario(scenario: str) -> str:
    if scenario not in catalog.SCENARIOS:
        raise ValueError(
            f"scenario must be one of {', '.join(catalog.SCENARIOS)}, got {scenario!r}"
        )
    return scenario


def defaults(scenario: str = "base") -> dict[str, float]:
    """Every factor with an ``assumptions.csv`` row, read under ``scenario``."""
    check_scenario(scenario)
    out = {}
    for key in DIRECTION:
        if key in FROM_CHIP:
            continue
        bound = (
            "base"
            if scenario == "base"
            else (
                ("high" if DIRECTION[key] > 0 else "low")
                if scenario == "optimistic"
                else ("low" if DIRECTION[key] > 0 else "high")
            )
        )
        out[key] = catalog.assumption(key, bound)
    return out


@functools.cache
def fitted_rows() -> tuple[dict, ...]:
    """Rows of the shipped ``data/calibration.csv`` (numbers as floats, ``n_points`` as an int;
    a factor with no assumption default has ``default`` NaN)."""
    if not CALIBRATION_PATH.exists():
        raise CatalogError(
            "data/calibration.csv is missing: run `python -m inference_wars calibrate`"
        )
    with CALIBRATION_PATH.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen = set()
    for line_no, r in enumerate(rows, start=2):
        where = f"calibration.csv:{line_no}"
        if r.get("key") not in DIRECTION:
            raise CatalogError(f"{where}: unknown factor {r.get('key')!r}")
        if (r["scope"], r["key"]) in seen:
            raise CatalogError(f"{where}: {r['scope']} {r['key']} is given twice")
        seen.add((r["scope"], r["key"]))
        for k, kind in (
            ("value", float),
            ("low", float),
            ("high", float),
            ("default", float),
            ("n_points", int),
        ):
            try:
                r[k] = kind(r[k])
            except ValueError:
                raise CatalogError(f"{where}: {k} must be a number, got {r[k]!r}") from None
        if not r["low"] <= r["value"] <= r["high"]:
            raise CatalogError(f"{where}: need low <= value <= high")
        if r["key"] in FRACTIONS and not 0 < r["value"] <= 1:
            raise CatalogError(f"{where}: {r['key']} must be in (0, 1]")
    return tuple(rows)


#: Families with no measured results of their own borrow the software factors fitted to this one
#: (the most-measured stack): an unmeasured programmable chip is assumed to run as well as it.
REFERENCE_FAMILY = "nvidia-gpu"
BORROWING = ("tpu", "other")


def in_scope(scope: str, chip_id: str) -> bool:
    """Whether a fitted factor of ``scope`` applies to a chip: its own id, its family, a family it
    borrows from, or ``all`` (every chip that runs kernels: not the compiled dataflow machines).
    An engine's scope (its id) applies by engine, not by chip (:func:`engine_efficiency`)."""
    if is_engine_scope(scope):
        return False
    fam = family(chip_id)
    if scope in (chip_id, fam):
        return True
    if scope == "all":
        return fam != "dataflow"
    return scope == REFERENCE_FAMILY and fam in BORROWING


def scope_rank(scope: str) -> int:
    """Order in which fitted scopes apply, broadest first so narrower ones win:
    ``all`` < the borrowed reference family < a chip's own family < the chip itself."""
    if scope == "all":
        return 0
    if scope == REFERENCE_FAMILY:
        return 1
    return 2 if scope in FAMILIES else 3


def fitted_by(scope: str, key: str, chip_id: str, scopes: Collection[str]) -> bool:
    """Whether measured rows on ``chip_id`` fit factor ``key`` of ``scope`` when ``key`` is fitted
    in ``scopes``: only if the chip's prediction takes that value (it is in scope, no narrower
    scope among ``scopes`` covers it, and it neither publishes its own kernel overhead nor
    launches no kernels), and only on the scope's own chips: a family that borrows the reference
    family's factors is predicted with them but does not fit them (its rows test the borrowing).
    """
    if not in_scope(scope, chip_id):
        return False
    if scope == REFERENCE_FAMILY and family(chip_id) in BORROWING:
        return False
    rank = scope_rank(scope)
    if any(s != scope and scope_rank(s) > rank and in_scope(s, chip_id) for s in scopes):
        return False
    if key in _KERNEL_OVERHEADS:
        return not runs_no_kernels(chip_id) and np.isnan(_own_overhead(chip_id, key, "base"))
    return True


def runs_no_kernels(chip_id: str) -> bool:
    """A compiled dataflow machine or a fixed (hard-wired) datapath launches no kernels: its
    per-layer and per-MoE-layer overheads are zero whatever the fit says for its scopes."""
    c = catalog.get_chip(chip_id)
    return family(c) == "dataflow" or bool(c.hardwired_model)


_KERNEL_OVERHEADS = ("layer_overhead_us", "expert_overhead_us")


def _own_overhead(chip_id: str, key: str, scenario: str) -> float:
    """A chip's own catalog value of a kernel overhead (NaN if it publishes none)."""
    q = catalog.get_chip(chip_id).specs.get(key)
    return float("nan") if q is None else q.bound(scenario, DIRECTION[key])


def is_engine_scope(scope: str) -> bool:
    """Whether a fitted scope names a serving engine (``vllm``, ``sglang``, ...), not chips."""
    return scope in catalog.engine_ids()


def engine_efficiency(
    engine: str, scenario: str = "base", fit: dict[tuple[str, str], float] | None = None
) -> float:
    """How fast ``engine`` runs relative to its family's reference engine: its fitted
    ``engine_efficiency`` under ``scenario`` (``fit`` replaces the shipped fit), else the
    assumption's 1."""
    e = catalog.get_engine(engine).id
    if fit is not None:
        return float(fit.get((e, ENGINE_KEY), catalog.assumption(ENGINE_KEY)))
    row = fitted(e).get(ENGINE_KEY)
    if row is None:
        return catalog.assumption(ENGINE_KEY)
    return _bound(*row, ENGINE_KEY, scenario)


def fitted(scope: str) -> dict[str, tuple[float, float, float]]:
    """``{factor: (value, low, high)}`` fitted for one family or chip id (empty if none)."""
    return {
        r["key"]: (r["value"], r["low"], r["high"]) for r in fitted_rows() if r["scope"] == scope
    }


def young_software_slowdown(
    use_fitted: bool = True, fit: dict[tuple[str, str], float] | None = None
) -> float:
    """``young_software_slowdown`` (:func:`inference_wars.engine.software.maturity`): from ``fit``
    (``{(scope, factor): value}``, as a calibration run passes) where given, else the shipped fit's,
    else (``use_fitted=False``, or a fit without it) the assumption's default."""
    default = catalog.assumption(MATURITY_KEY)
    if fit is not None:
        return fit.get(("all", MATURITY_KEY), default)
    return fitted("all").get(MATURITY_KEY, (default,))[0] if use_fitted else default


def maturity_scale(age_months, no_kernels, slowdown) -> np.ndarray:
    """How fast software ``age_months`` old runs relative to mature software
    (:func:`inference_wars.engine.software.maturity`), 1 where ``no_kernels``
    (:func:`runs_no_kernels`: a dataflow compiler's schedule is fixed when the model is compiled)."""
    return np.where(no_kernels, 1.0, maturity(age_months, slowdown))


def chip_factors(
    chip_id: str, scenario: str = "base", use_fitted: bool = True, engine: str | None = None
) -> dict[str, float]:
    """Every factor for one chip under a scenario, as a
    :class:`~inference_wars.engine.serving.Factors` takes them: assumption defaults, then the
    chip's family's fitted values, then the chip's own; ``layer_floor_us`` defaults to the chip's
    catalog number, and a kernel overhead the chip's catalog row publishes (SambaNova's fused,
    looped decoder kernel: none) replaces the fitted one it would otherwise borrow. With the fit,
    the efficiencies are those of ``engine`` (the chip's default if None), as
    :func:`factor_arrays` scales them."""
    c = catalog.get_chip(chip_id)
    engine = default_engine(c.id) if engine is None else catalog.get_engine(engine).id
    return _scaled(c.id, scenario, use_fitted, engine)


@functools.cache
def _scaled(chip_id: str, scenario: str, use_fitted: bool, engine: str) -> dict[str, float]:
    f = factor_arrays([chip_id], scenario, use_fitted=use_fitted, engines=[engine])
    return {k: float(np.asarray(v)[0]) for k, v in f.__dict__.items()}


@functools.cache
def _unscaled(chip_id: str, scenario: str = "base", use_fitted: bool = True) -> dict[str, float]:
    """:func:`chip_factors` before the engine's efficiency scales it."""
    c = catalog.get_chip(chip_id)
    out = defaults(scenario)
    del out[ENGINE_KEY]  # it scales other factors (factor_arrays); Factors has no field for it
    del out[MATURITY_KEY]  # so does the software's maturity (validation, by each result's date)
    ll = c.specs.get("layer_latency_us")
    out["layer_floor_us"] = ll.bound(scenario, -1) if ll else 0.0
    if use_fitted:
        for scope in sorted({r["scope"] for r in fitted_rows()}, key=scope_rank):
            if in_scope(scope, c.id):
                for key, (v, lo, hi) in fitted(scope).items():
                    out[key] = _bound(v, lo, hi, key, scenario)
    for key in _KERNEL_OVERHEADS:  # a chip's own published overhead wins over its family's fit
        own = _own_overhead(c.id, key, scenario)
        if not np.isnan(own):
            out[key] = own
    if runs_no_kernels(c.id):
        out.update(dict.fromkeys(_KERNEL_OVERHEADS, 0.0))
    return out


def scale_by_engine(factors: dict, engine_efficiency) -> dict:
    """The factors an engine ``e`` times as fast as its family's reference runs at (the other
    keys unchanged; ``factors`` and ``e`` may be floats or numpy arrays)::

        compute_efficiency * e  (at most 1),   memory_efficiency, kv_efficiency * e  (at most 0.9)
        layer_overhead_us, expert_overhead_us / e

    A factor already above its cap is not lowered by ``e`` > 1."""
    e = engine_efficiency
    out = dict(factors)
    for key in ENGINE_SCALES:
        cap = 1.0 if key == "compute_efficiency" else MAX_READ_EFFICIENCY
        out[key] = np.minimum(out[key] * e, np.maximum(out[key], cap))
    for key in _KERNEL_OVERHEADS:
        out[key] = out[key] / e
    return out


def check_overrides(overrides: dict[str, float]) -> dict[str, float]:
    """Validate ``estimate(..., **overrides)``: known factor names, positive finite values,
    fractions at most 1."""
    out = {}
    for key, v in overrides.items():
        if key not in DIRECTION:
            raise UnknownNameError("assumption", key, DIRECTION)
        if key == MATURITY_KEY:
            raise ValueError(
                f"{key} sets how much slower a model's software ran in the months after its "
                "architecture first shipped (validation reads it at each measured result's date); an estimate "
                "describes mature software, so it takes no such override: scale the efficiencies "
                "(e.g. compute_efficiency, memory_efficiency) to ask about young software"
            )
        if key in ("layer_overhead_us", "expert_overhead_us", "layer_floor_us") and v == 0:
            out[key] = 0.0
            continue
        v = require_positive(key, v)
        if key in FRACTIONS and v > 1:
            raise ValueError(f"{key} is a fraction and must be in (0, 1], got {v!r}")
        out[key] = v
    return out


def factor_arrays(
    chip_ids: Sequence[str],
    scenario: str = "base",
    overrides: dict[str, float] | None = None,
    use_fitted: bool = True,
    fitted: dict[tuple[str, str], float] | None = None,
    engines: Sequence[str | None] | None = None,
    software_age_months: float | None = None,
) -> Factors:
    """:class:`~inference_wars.engine.serving.Factors` with one entry per chip id (overrides win).
    ``fitted`` (``{(scope, factor): value}``) replaces the shipped fit, as a calibration run
    needs; it applies by the same scopes and precedence as the shipped one. ``engines`` gives
    each chip's serving engine (None: the chip's default, :func:`~inference_wars.engine.software.default_engine`);
    its :func:`engine_efficiency` ``e`` scales the efficiencies and the kernel overheads (before
    overrides)::

        compute_efficiency * e  (at most 1),   memory_efficiency, kv_efficiency * e  (at most 0.9)
        layer_overhead_us, expert_overhead_us / e

    (Scaling the overheads too scored better held out than scaling the efficiencies alone:
    ``data/calibration_experiments.csv``, ``engine-overheads``.) ``software_age_months`` (None:
    mature software) multiplies ``e`` by the engine's :func:`maturity_scale` at that age.
    """
    ids = tuple(catalog.get_chip(c).id for c in chip_ids)
    engs = tuple(
        default_engine(c) if e is None else catalog.get_engine(e).id
        for c, e in zip(ids, engines if engines is not None else [None] * len(ids), strict=True)
    )
    if fitted is None:
        key = tuple(sorted((k, float(v)) for k, v in (overrides or {}).items()))
        return _factor_arrays(ids, scenario, key, use_fitted, engs, software_age_months)
    return _build_factor_arrays(
        ids, scenario, overrides, use_fitted, fitted, engs, software_age_months
    )


@functools.lru_cache(maxsize=256)
def _factor_arrays(
    ids: tuple[str, ...],
    scenario: str,
    overrides: tuple,
    use_fitted: bool,
    engines: tuple,
    age_months: float | None,
):
    """:func:`factor_arrays` with the shipped fit, built once per argument list (read-only)."""
    return _build_factor_arrays(
        ids, scenario, dict(overrides), use_fitted, None, engines, age_months
    )


def _build_factor_arrays(
    ids, scenario, overrides, use_fitted, fitted, engines, age_months=None
) -> Factors:
    # each distinct chip is looked up once (a calibration run builds these for ~2,000 rows of a
    # few dozen chips, hundreds of times), then spread to its rows
    uniq = tuple(dict.fromkeys(ids))
    at = {c: i for i, c in enumerate(uniq)}
    inv = np.array([at[c] for c in ids], int)
    rows = [_unscaled(c, scenario, use_fitted and fitted is None) for c in uniq]
    cols = {k: np.array([r[k] for r in rows], float)[inv] for k in Factors.__dataclass_fields__}
    no_kernels = np.array([runs_no_kernels(c) for c in uniq], bool)[inv]
    if fitted:
        chip_fits = {sk: v for sk, v in fitted.items() if not is_engine_scope(sk[0])}
        for (scope, key), v in sorted(chip_fits.items(), key=lambda kv: scope_rank(kv[0][0])):
            if key not in cols:  # a factor that scales others (MATURITY_KEY): not a column
                continue
            applies = np.array([in_scope(scope, c) for c in uniq], bool)[inv]
            cols[key] = np.where(applies, v, cols[key])
        for key in _KERNEL_OVERHEADS:
            own = np.array([_own_overhead(c, key, scenario) for c in uniq], float)[inv]
            cols[key] = np.where(np.isnan(own), cols[key], own)
            cols[key] = np.where(no_kernels, 0.0, cols[key])
    overrides = dict(overrides or {})
    asked = overrides.pop(ENGINE_KEY, None)  # a what-if: every engine at this factor
    if use_fitted or fitted or asked is not None or age_months is not None:
        effs = {
            e: engine_efficiency(e, scenario, fitted) if asked is None else asked
            for e in set(engines)
        }
        scale = np.where(no_kernels, 1.0, [effs[e] for e in engines])
        if age_months is not None:  # young software: slower by its maturity at that age
            slowdown = young_software_slowdown(use_fitted, fitted)
            scale = scale * maturity_scale(age_months, no_kernels, slowdown)
        cols.update(scale_by_engine(cols, scale))  # scale 1 where no kernels run
    for k, v in overrides.items():
        # a machine that launches no kernels pays no kernel overhead, whatever a what-if sets
        cols[k] = (
            np.where(no_kernels, 0.0, float(v))
            if k in _KERNEL_OVERHEADS
            else np.full(len(ids), float(v))
        )
    return Factors(**read_only(cols))


# every factor without a per-chip default must have its row in assumptions.csv (checked on load)
catalog.require_assumptions(k for k in DIRECTION if k not in FROM_CHIP)
