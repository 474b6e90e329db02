"""The catalogs shipped with the package (the data layer): chips and systems, model
architectures, serving engines, number formats, modelling assumptions, market prices and published claims.

Data lives in ``inference_wars/data`` as CSV (see its README). Every row is validated with
pydantic on first use (:mod:`.schemas`), read and cross-checked by :mod:`.loading` (every number
names a BibTeX source present in ``data/references/*.bib``, estimated numbers carry
``low <= value <= high``, ids are unique), found by id or alias by :mod:`.lookup`, and shown as
DataFrames by :mod:`.views`. :mod:`.architecture` derives parameter counts from a model's
architecture row; :mod:`.claims` holds the published-claims tables. Loading is lazy and cached,
so ``import inference_wars`` stays fast. This layer imports nothing from the engine above it.
"""

from .loading import (
    DATA_DIR,
    bib_keys,
    check_source,
    read_rows,
    require_assumptions,
    required_assumptions,
    unique_by,
)
from .lookup import (
    assumption,
    assumption_keys,
    chip_ids,
    engine_ids,
    engine_named_in,
    format_ids,
    get_chip,
    get_engine,
    get_format,
    get_model,
    model_ids,
)
from .schemas import (
    QUANTITIES,
    SCENARIOS,
    AssumptionRow,
    CatalogError,
    Chip,
    ChipRow,
    EngineRow,
    FormatRow,
    MarketRow,
    ModelRow,
    Spec,
    SpecRow,
    Status,
    blank_to_none,
    check_date,
)
from .views import assumptions, chip_specs, chips, engines, formats, market_prices, models

__all__ = [
    "DATA_DIR",
    "QUANTITIES",
    "SCENARIOS",
    "AssumptionRow",
    "CatalogError",
    "Chip",
    "ChipRow",
    "EngineRow",
    "FormatRow",
    "MarketRow",
    "ModelRow",
    "Spec",
    "SpecRow",
    "Status",
    "assumption",
    "assumption_keys",
    "assumptions",
    "bib_keys",
    "blank_to_none",
    "check_date",
    "check_source",
    "chip_ids",
    "chip_specs",
    "chips",
    "engine_ids",
    "engines",
    "engine_named_in",
    "format_ids",
    "formats",
    "get_chip",
    "get_engine",
    "get_format",
    "get_model",
    "market_prices",
    "model_ids",
    "models",
    "read_rows",
    "require_assumptions",
    "required_assumptions",
    "unique_by",
]
