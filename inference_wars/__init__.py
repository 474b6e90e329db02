"""inference_wars: model the inference chip wars.

>>> import inference_wars as iw
>>> e = iw.estimate("llama-3.1-70b", "h100-sxm", batch=8)
>>> e.n_chips, e.bound
(2, 'memory')

Layers, each importing only the ones below it (``tests/test_layers.py`` checks):

* :mod:`inference_wars.errors` -- the shared validators and error types;
* :mod:`inference_wars.catalog` -- the data: chips, models, formats, assumptions, prices, claims
  (DataFrames with sources: :func:`chips`, :func:`models`, :func:`formats`, :func:`assumptions`);
* :mod:`inference_wars.engine` -- the model: workload, roofline, memory, parallel, queueing,
  serving,
  economics, factors, deployment;
* :mod:`inference_wars.api` -- the facade: :func:`estimate`, :func:`sweep`;
* the chapters' analyses (``frontier``, ``hardwired``, ``systolic``, ``landscape``, ``claims``,
  ``market``...) and the measured-data modules (``validation``, ``calibration``);
* the book and the command line (``book``, ``charts``, ``tables``, ``cli``).

``from inference_wars import serving`` (any module name, old flat layout included) still works:
the name is looked up in its subpackage on first use.
"""

import importlib
import importlib.abc
import importlib.util
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

#: Where each module lives. The flat names of the first layout keep working, lazily:
#: ``from inference_wars import frontier`` and ``from inference_wars.serving import evaluate``
#: reach ``inference_wars.analyses.frontier`` and ``inference_wars.engine.serving``.
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
            "queueing",
            "roofline",
            "serving",
            "workload",
        ),
        "catalog": ("architecture",),
        "analyses": (
            "agentic",
            "challenger",
            "claims",
            "context_memory",
            "fleet",
            "frontier",
            "hardwired",
            "hierarchy",
            "landscape",
            "market",
            "regime",
            "systolic",
            "uncertainty",
        ),
        "evidence": ("calibration", "validation"),
        "book": ("charts", "tables"),
    }.items()
    for name in names
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``inference_wars.<old name>`` as the module at its new place (the same object)."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, old = fullname.rpartition(".")
        if package == __name__ and old in _MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(f"{__name__}.{_MOVED[spec.name.rpartition('.')[2]]}")
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self.own_spec  # importlib gave the real module the alias's spec


_sys.meta_path.insert(0, _MovedModules())


def __getattr__(name: str):
    """``inference_wars.<module>`` for a module that lives in a subpackage."""
    if name in _MOVED:
        return importlib.import_module(f"{__name__}.{_MOVED[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
