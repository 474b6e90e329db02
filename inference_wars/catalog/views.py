"""The catalog as pandas DataFrames, one row per chip, spec, model, format, assumption or
market price, for the chapters and the CLI."""

from __future__ import annotations

from .loading import _assumptions, _chips, _engines, _formats, _market, _models
from .schemas import QUANTITIES

# --------------------------------------------------------------------------- DataFrames


def chips(with_sources: bool = True):
    """One row per chip/system unit: descriptive columns, every quantity, and (with
    ``with_sources``) ``<quantity>_status``, ``_source``, ``_low``, ``_high`` columns."""
    import pandas as pd

    records = []
    for c in _chips().values():
        rec = {
            "id": c.id,
            "name": c.name,
            "vendor": c.vendor,
            "category": c.category,
            "release_status": c.release_status,
            "memory_kind": c.memory_kind,
            "process": c.process,
            "sram_role": c.sram_role,
            "hardwired_model": c.hardwired_model,
            "unit": c.unit,
        }
        for q in QUANTITIES:
            s = c.specs.get(q)
            rec[q] = s.value if s else None
            if with_sources:
                rec[f"{q}_low"] = s.low if s else None
                rec[f"{q}_high"] = s.high if s else None
                rec[f"{q}_status"] = s.status if s else None
                rec[f"{q}_source"] = s.source if s else None
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    # drop quantities no chip has, keep the frame readable
    empty = [col for col in df.columns if df[col].isna().all()]
    return df.drop(columns=empty)


def chip_specs():
    """Long table: one row per sourced number (chip, quantity, value, low, high, status,
    source, date, note)."""
    import pandas as pd

    rows = [
        {
            "chip": c.id,
            "quantity": q,
            "value": s.value,
            "low": s.low,
            "high": s.high,
            "status": s.status,
            "source": s.source,
            "date": s.date,
            "note": s.note,
        }
        for c in _chips().values()
        for q, s in c.specs.items()
    ]
    return pd.DataFrame(rows)


def models():
    """One row per model architecture, with computed parameter counts."""
    import pandas as pd

    from .architecture import parameter_counts

    records = []
    for m in _models().values():
        rec = m.model_dump()
        rec.update(parameter_counts(m))
        records.append(rec)
    return pd.DataFrame.from_records(records)


def formats():
    """The number formats and their effective bits per weight."""
    import pandas as pd

    return pd.DataFrame.from_records([f.model_dump() for f in _formats().values()])


def engines():
    """The serving engines (``data/engines.csv``): what each runs on and where it is the default."""
    import pandas as pd

    return pd.DataFrame.from_records([e.model_dump() for e in _engines().values()])


def assumptions():
    """The modelling defaults with their ranges and sources."""
    import pandas as pd

    return pd.DataFrame.from_records([a.model_dump() for a in _assumptions().values()])


def market_prices():
    """Public API list prices: one row per (provider, model) with USD per million input and
    output tokens, the chip and precision it is modelled on, and the published per-user speed
    where one was measured (``data/market_prices.csv``)."""
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _market().values()])
