"""inference_wars: model the inference chip wars.

>>> import inference_wars as iw
>>> e = iw.estimate("llama-3.1-70b", "h100-sxm", batch=8)
>>> e.n_chips, e.bound
(4, 'memory')

Layers, each importing only the ones below it (``tests/test_layers.py`` checks):

* :mod:`inference_wars.errors` -- the shared validators and error types;
* :mod:`inference_wars.catalog` -- the data: chips, models, formats, assumptions, prices, claims
  (DataFrames with sources: :func:`chips`, :func:`models`, :func:`formats`, :func:`assumptions`);
* :mod:`inference_wars.engine` -- the model: workload, roofline, memory, parallel, serving,
  economics, factors, deployment;
* :mod:`inference_wars.api` -- the facade: :func:`estimate`, :func:`sweep`;
* the chapters' analyses (``frontier``, ``hardwired``, ``systolic``, ``landscape``, ``claims``,
  ``market``...) and the measured-data modules (``validation``, ``calibration``);
* the book and the command line (``book``, ``charts``, ``tables``, ``cli``).

``from inference_wars import serving`` (any module name, old flat layout included) still works:
the name is looked up in its subpackage on first use.
"""

import importlib
import sys as _sys

from .api import Estimate, assumptions_for, estimate, max_concurrent_sequences, sweep
from .catalog import (
    assumptions,
    chip_ids,
    chip_specs,
    chips,
    format_ids,
    formats,
    get_chip,
    get_format,
    get_model,
    model_ids,
    models,
)
from .errors import UnknownNameError

__version__ = "0.1.0"

__all__ = [
    "Estimate",
    "UnknownNameError",
    "assumptions",
    "assumptions_for",
    "chip_ids",
    "chip_specs",
    "chips",
    "estimate",
    "format_ids",
    "max_concurrent_sequences",
    "formats",
    "get_chip",
    "get_format",
    "get_model",
    "model_ids",
    "models",
    "sweep",
]

#: Where each module lives. The old flat names keep working: ``from inference_wars import serving``
#: and ``from inference_wars.serving import evaluate`` both reach ``inference_wars.engine.serving``
#: (the engine is imported with the facade anyway, so the aliases cost nothing).
_MOVED = {
    name: f"{pkg}.{name}"
    for pkg, names in {
        "engine": (
            "deployment",
            "economics",
            "factors",
            "formats",
            "hardware",
            "memory",
            "parallel",
            "roofline",
            "serving",
            "workload",
        ),
        "catalog": ("architecture",),
    }.items()
    for name in names
}
for _old, _new in _MOVED.items():
    _sys.modules.setdefault(f"{__name__}.{_old}", importlib.import_module(f"{__name__}.{_new}"))


def __getattr__(name: str):
    """``inference_wars.<module>`` for a module that moved into a subpackage."""
    if name in _MOVED:
        return _sys.modules[f"{__name__}.{name}"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
