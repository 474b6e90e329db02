"""inference_wars: model the inference chip wars.

>>> import inference_wars as iw
>>> e = iw.estimate("llama-3.1-70b", "h100-sxm", batch=8)
>>> e.n_chips, e.bound
(4, 'memory')

Catalogs: :func:`chips`, :func:`models`, :func:`formats`, :func:`assumptions` (DataFrames with
sources). Models: :mod:`roofline`, :mod:`kv_cache` (via :mod:`workload`), :mod:`memory`,
:mod:`parallel`, :mod:`serving`, :mod:`economics`. Entry points: :func:`estimate`,
:func:`sweep`.
"""

from .api import Estimate, assumptions_for, estimate, max_concurrent_sequences, sweep
from .catalog import (assumptions, chip_ids, chip_specs, chips, format_ids, formats, get_chip, get_format,
                      get_model, model_ids, models)
from .errors import UnknownNameError

__version__ = "0.1.0"

__all__ = [
    "Estimate", "UnknownNameError", "assumptions", "assumptions_for", "chip_ids", "chip_specs", "chips",
    "estimate", "format_ids", "max_concurrent_sequences", "formats", "get_chip", "get_format", "get_model", "model_ids", "models", "sweep",
]
