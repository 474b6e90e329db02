"""Serving engines: which software runs a model on a chip, and which one an estimate assumes.

The same chip runs the same model at different speeds under different serving engines (the
kernels, the scheduler, the graph capture). The engines a result can name are rows of
``data/engines.csv``; each has the hardware it ``runs_on`` and the families or chips it is the
``default_for``: TensorRT-LLM on NVIDIA GPUs, vLLM on AMD GPUs and TPUs, AWS Neuron on
Inferentia2, the vendor's own stack (``native``) on everything else. How fast an engine runs
relative to the reference one is a fitted factor (:func:`inference_wars.engine.factors.engine_efficiency`).
"""

from __future__ import annotations

import functools

import numpy as np

from ..catalog import engine_ids, engine_named_in, get_chip, get_engine
from .hardware import family


def _on(platforms: tuple[str, ...], chip_id: str) -> bool:
    return chip_id in platforms or family(chip_id) in platforms


def default_engine(chip: str) -> str:
    """The engine an estimate on ``chip`` assumes: the row that names the chip itself in
    ``default_for``, else the row that names its family.

    >>> default_engine("h100"), default_engine("mi355x"), default_engine("groq")
    ('tensorrt-llm', 'vllm', 'native')
    """
    return _default_for(get_chip(chip).id)


@functools.cache
def _rows():
    """The engine rows, in ``engines.csv`` order (the catalog is read once and never changes)."""
    return tuple(get_engine(e) for e in engine_ids())


@functools.cache
def _default_for(c: str) -> str:
    rows = _rows()
    for e in rows:
        if c in e.default_on:
            return e.id
    for e in rows:
        if family(c) in e.default_on:
            return e.id
    raise LookupError(f"engines.csv: no engine is the default for {c} or its family")


def runs_on(engine: str, chip: str) -> bool:
    """Whether ``engine`` serves models on ``chip`` (its ``runs_on`` names the chip or its family)."""
    return _on(get_engine(engine).platforms, get_chip(chip).id)


def check_engine(engine: str | None, chip: str) -> str:
    """The engine id an estimate on ``chip`` uses: ``engine`` (an id or alias) if it runs there,
    the chip's default if ``engine`` is None. An engine that does not run on the chip raises,
    naming the engines that do."""
    c = get_chip(chip).id
    if engine is None:
        return default_engine(c)
    e = get_engine(engine)
    if not _on(e.platforms, c):
        options = [r.id for r in _rows() if _on(r.platforms, c)]
        raise ValueError(
            f"engine {e.id!r} does not run on {c} (it runs on {', '.join(e.platforms)}); "
            f"engines for {c}: {', '.join(options)}"
        )
    return e.id


def engine_of(software: str | None, chip: str) -> str:
    """The engine a measured result ran: the one its ``software`` text names
    (:func:`inference_wars.catalog.engine_named_in`) if that runs on the chip, else the chip's
    default (a result that names no engine is read as the default an estimate would assume)."""
    e = engine_named_in(software)
    c = get_chip(chip).id
    return e.id if e is not None and _on(e.platforms, c) else default_engine(c)


#: Months over which an engine's kernels for a newly released architecture close most of their gap
#: (:func:`maturity`): the gap shrinks by ``e`` every ``MATURITY_MONTHS``.
MATURITY_MONTHS = 6.0
#: The fitted factor of :func:`maturity` (``data/assumptions.csv``, ``data/calibration.csv``).
MATURITY_KEY = "young_software_slowdown"


def maturity(age_months, slowdown) -> np.ndarray:
    """How fast the serving software runs a model ``age_months`` after the model's architecture
    first shipped (:func:`inference_wars.evidence.validation.architecture_release`), relative to
    mature software::

        s = 1 - slowdown * exp(-age / MATURITY_MONTHS)                   (age clipped at 0)

    Engines keep tuning a new architecture's kernels for months after it ships (DeepSeek-R1's
    throughput on the same GPUs grew several-fold through 2025 in the posts the measured table
    cites), so a result measured in an architecture's first months runs slower than the mature
    software an estimate assumes. ``MATURITY_MONTHS`` is chosen, not fitted; ``slowdown``
    (``young_software_slowdown``) is fitted; ``s`` scales an engine's efficiencies as
    :func:`inference_wars.engine.factors.scale_by_engine` does.

    >>> [round(float(maturity(a, 0.6)), 2) for a in (0, 6, 24)]
    [0.4, 0.78, 0.99]
    """
    age = np.maximum(np.asarray(age_months, float), 0.0)
    return 1.0 - np.asarray(slowdown, float) * np.exp(-age / MATURITY_MONTHS)
