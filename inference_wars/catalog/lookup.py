"""Finding a chip, model, format, serving engine or assumption by id or alias; unknown names suggest the
closest match (:class:`inference_wars.errors.UnknownNameError`)."""

from __future__ import annotations

import re

from ..errors import UnknownNameError
from .loading import _assumptions, _chips, _engines, _formats, _models
from .schemas import Chip, EngineRow, FormatRow, ModelRow, split_aliases


def _normalise(name: str) -> str:
    return str(name).strip().lower().replace(" ", "-").replace("_", "-")


def _lookup(kind: str, name: str, table: dict, aliases_of) -> object:
    """Find ``name`` by id or alias in ``table``; unknown names raise with the closest matches."""
    if isinstance(name, str) and name in table:  # an exact id (ids are already normalised)
        return table[name]
    key = _normalise(name)
    if key in table:
        return table[key]
    aliases = {a: item_id for item_id, item in table.items() for a in aliases_of(item)}
    if key in aliases:
        return table[aliases[key]]
    raise UnknownNameError(kind, name, table, aliases)


def get_chip(name: str | Chip) -> Chip:
    """Look up a chip by id or alias; unknown names raise with the closest matches."""
    if isinstance(name, Chip):
        return name
    return _lookup("chip", name, _chips(), lambda c: c.aliases)


def _repository_name(name: str) -> str:
    """A Hugging Face repository name without its organisation: ``meta-llama/Llama-3.3-70B-Instruct``
    reads ``llama-3.3-70b-instruct``, which the catalog knows as an alias where the release's
    config matches an architecture row in every column (a fine-tune suffix alone does not make
    it so: Mixtral 8x22B Instruct has a larger vocabulary than its base).

    >>> _repository_name("meta-llama/Llama-3.3-70B-Instruct")
    'llama-3.3-70b-instruct'
    """
    return _normalise(name).rsplit("/", 1)[-1]


def get_model(name: str | ModelRow) -> ModelRow:
    """Look up a model architecture by id or alias, or by a Hugging Face repository name of it
    (the organisation dropped: :func:`_repository_name`)."""
    if isinstance(name, ModelRow):
        return name
    table, aliases = _models(), lambda m: split_aliases(m.aliases)
    try:
        return _lookup("model", name, table, aliases)
    except UnknownNameError as unknown:
        plain = _repository_name(name) if isinstance(name, str) else None
        if plain is None or plain == _normalise(name):
            raise
        try:
            return _lookup("model", plain, table, aliases)
        except UnknownNameError:
            raise unknown from None  # the name as given, with its closest matches


def get_format(name: str | FormatRow) -> FormatRow:
    """Look up a number format (``bf16``, ``fp8``, ``nvfp4``, ``taalas-3b6b``, ...)."""
    if isinstance(name, FormatRow):
        return name
    return _lookup("format", name, _formats(), lambda f: ())


def get_engine(name: str | EngineRow) -> EngineRow:
    """Look up a serving engine (``tensorrt-llm``, ``vllm``, ``sglang``, ``atom``, ...) by id or
    alias (``nim``, ``dynamo``, ``sglang-jax``, ...)."""
    if isinstance(name, EngineRow):
        return name
    return _lookup("engine", name, _engines(), lambda e: split_aliases(e.aliases))


def engine_named_in(software: str | None) -> EngineRow | None:
    """The engine a measured result's ``software`` text names: the first row of
    ``engines.csv`` whose ``software_pattern`` matches it (None if none does, or no text).

    >>> engine_named_in("Dynamo + TensorRT-LLM (MLPerf v5.1 submission)").id
    'tensorrt-llm'
    >>> engine_named_in("optimum-neuron 0.4.6 vLLM server").id
    'neuron'
    """
    if not software:
        return None
    return next((e for e in _engines().values() if re.search(e.software_pattern, software)), None)


def assumption(key: str, scenario: str = "base") -> float:
    """A modelling default from ``assumptions.csv`` (``base`` value, or ``low``/``high``)."""
    rows = _assumptions()
    if key not in rows:
        raise UnknownNameError("assumption", key, rows)
    if scenario not in ("base", "low", "high"):
        raise ValueError(f"an assumption is read at 'base', 'low' or 'high', got {scenario!r}")
    r = rows[key]
    return {"base": r.value, "low": r.low, "high": r.high}[scenario]


def chip_ids() -> list[str]:
    return list(_chips())


def model_ids() -> list[str]:
    return list(_models())


def engine_ids() -> list[str]:
    return list(_engines())


def format_ids() -> list[str]:
    return list(_formats())


def assumption_keys() -> list[str]:
    return list(_assumptions())
