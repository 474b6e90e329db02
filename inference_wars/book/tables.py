"""Tables for readers: one helper that turns a DataFrame into a table for the page.

:func:`for_page` gives human column names with units (from :data:`COLUMN_LABELS`, or the
``labels`` you pass), drops the index, rounds floats to three significant figures (integers,
which are settings or counts such as an 8,192-token prompt, stay whole) with thousands
separators, fits the text column (a wide table scrolls inside its own box) and
collapses a long table into a ``<details>`` block that shows its first rows.

>>> for_page(df)                       # doctest: +SKIP
>>> for_page(df, labels={"x": "X (GB)"}, max_rows=8)   # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import numbers
import re

import pandas as pd

#: Human names, with units, for the package's column names.
COLUMN_LABELS: dict[str, str] = {
    "held_out_median_pct": "Held-out median error (%)",
    "held_out_p90_pct": "Held-out 90th percentile (%)",
    "forward_median_pct": "Forward-test median error (%)",
    "forward_p90_pct": "Forward-test 90th percentile (%)",
    "rows_beyond_35": "Rows missed by over 35 %",
    "idea": "Change tried",
    "outcome": "Outcome",
    "chip": "Chip",
    "model": "Model",
    "precision": "Format",
    "batch": "Batch",
    "bound": "Bound by",
    "n_chips": "Chips",
    "tp": "Tensor parallel",
    "pp": "Pipeline stages",
    "ep": "Expert parallel",
    "replicas": "Model copies",
    "attention_dp": "Attention data-parallel",
    "context": "Context (tokens)",
    "input_tokens": "Prompt (tokens)",
    "output_tokens": "Output (tokens)",
    "scenario": "Scenario",
    "tokens_per_s_per_user": "Speed per user (tokens/s)",
    "tokens_per_s_per_user_low": "Speed per user, low (tokens/s)",
    "tokens_per_s_per_user_high": "Speed per user, high (tokens/s)",
    "tokens_per_s": "Throughput (tokens/s)",
    "tokens_per_s_per_chip": "Throughput per chip (tokens/s)",
    "tokens_per_s_per_mw": "Tokens/s per MW",
    "usd_per_million_tokens": "Cost (US$ per M tokens)",
    "usd_per_million_tokens_low": "Cost, low (US$ per M tokens)",
    "usd_per_million_tokens_high": "Cost, high (US$ per M tokens)",
    "joules_per_token": "Energy (J per token)",
    "ttft_s": "Time to first token (s)",
    "capacity_gb": "Capacity (GB)",
    "bandwidth_tb_s": "Bandwidth (TB/s)",
    "weights_gb": "Weights (GB)",
    "kv_gb": "KV cache (GB)",
    "hbm_gb": "HBM (GB)",
    "hbm_tb_s": "HBM bandwidth (TB/s)",
    "sram_mb": "SRAM (MB)",
    "sram_tb_s": "SRAM bandwidth (TB/s)",
    "peak_dense_tflops_fp8": "Peak FP8 (TFLOPS)",
    "peak_dense_tflops_bf16": "Peak BF16 (TFLOPS)",
    "peak_dense_tflops_fp4": "Peak FP4 (TFLOPS)",
    "peak_tflops": "Peak, dense (TFLOPS)",
    "params_total_b": "Parameters, total (B)",
    "params_active_b": "Parameters, active (B)",
    "link_gb_s": "Link per hop (GB/s)",
    "tapeouts": "Tape-outs",
    "rank": "Rank",
    "hardwire": "Hard-wired",
    "gpu_usd": "GPU-only cost (US$)",
    "chosen_usd": "Chosen cost (US$)",
    "gpu": "GPU",
    "gpu_batch": "GPU batch",
    "bits_per_weight": "Bits per weight",
    "loss_pct": "Quality loss (%)",
    "predicted_low": "Predicted, low",
    "predicted_high": "Predicted, high",
    "ridge": "Ridge (FLOP per byte)",
    # the hard-wired chips' cost assumptions (data/hardwired_costs.csv), as table rows
    "mask_usd": "One mask",
    "masks_per_tapeout": "Masks per tape-out",
    "engineering_usd_per_tapeout": "Engineering per tape-out",
    "fab_months": "Fab turnaround",
    "deploy_months": "Packaging to service",
    "r1_chips": "Chips for DeepSeek-R1 (Taalas)",
    "tdp_w": "Chip power (W)",
    "power_w": "System power per chip (W)",
    "peak_dense_tflops_int8": "Peak INT8 (TOPS)",
    "peak_dense_tflops_int4": "Peak INT4 (TOPS)",
    "peak_dense_tflops_taalas": "Peak, own format (TOPS)",
    "l2_mb": "L2 cache (MB)",
    "l2_tb_s": "L2 bandwidth (TB/s)",
    "l1_smem_mb": "L1 / shared memory (MB)",
    "l1_smem_tb_s": "L1 / shared memory bandwidth (TB/s)",
    "regfile_mb": "Register file (MB)",
    "rom_gb": "ROM (GB)",
    "rom_tb_s": "ROM read bandwidth (TB/s)",
    "scaleup_gb_s": "Scale-up link (GB/s)",
    "scaleup_domain": "Scale-up domain (chips)",
    "scaleout_gb_s": "Scale-out network (GB/s)",
    "collective_latency_us": "Collective latency (µs)",
    "layer_latency_us": "Per-layer latency (µs)",
    "head_padding_ranks": "Ranks per chip that pad attention heads",
    "matrix_clock_fraction": "Clock held in dense matrix maths (fraction of peak clock)",
    "layer_overhead_us": "Per-layer overhead (µs)",
    "expert_overhead_us": "Per-expert overhead (µs)",
    "die_area_mm2": "Die area (mm²)",
    "process_nm": "Process (nm)",
    "transistors_b": "Transistors (billions)",
    "price_usd": "Price (US$)",
    "status": "Status",
    "source": "Source",
    "date": "Date",
    "vendor": "Vendor",
    "name": "Name",
    "id": "Id",
    "tier": "Tier",
    "scope": "Scope",
    "value": "Value",
    "target_tokens_per_s_per_user": "Target speed per user (tokens/s)",
    "min_tokens_per_s_per_user": "Target speed per user (tokens/s)",
    "tokens_per_day": "Tokens per day",
    "break_even_months": "Break-even (months)",
    "share": "Traffic share",
    "winner": "Winner",
    "system": "System",
    "verdict": "Verdict",
    "claimed": "Claimed",
    "predicted": "Predicted",
    "error_pct": "Error (%)",
    "ms": "Time (ms)",
    "step_ms": "Step time (ms)",
    "active_params_b": "Active parameters (B)",
    "total_params_b": "Parameters (B)",
    "max_context": "Max context (tokens)",
    "utilization": "Utilisation",
    "usd_per_million_prompt_tokens": "Cost per prompt token (US$ per M)",
    "tpot_s": "Time per output token (s)",
    "memory_s": "Memory time (s)",
    "compute_s": "Compute time (s)",
    "interconnect_s": "Interconnect time (s)",
    "overhead_s": "Overhead time (s)",
    "source_family": "Source family",
    "kind": "Kind",
    "serves": "Serves",
    "reason": "Reason",
    "peak_tb_s": "Peak bandwidth (TB/s)",
    "required_tb_s": "Bandwidth needed (TB/s)",
    "us_per_layer": "Time per layer (µs)",
    "mc_p05": "Monte Carlo 5th percentile",
    "mc_p95": "Monte Carlo 95th percentile",
}

#: Rows shown before a long table is collapsed behind "Show all N rows".
MAX_ROWS = 12


def human_label(column: str, labels: dict[str, str] | None = None) -> str:
    """A reader's name for ``column``: ``labels``, then :data:`COLUMN_LABELS`, then the name
    with underscores as spaces and the first letter capitalised."""
    if labels and column in labels:
        return labels[column]
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    base, _, end = str(column).rpartition("_")
    if end in ("low", "high") and base:
        # "<metric>_low" reads as the metric's name with ", low" before its unit
        name = human_label(base, labels)
        head, paren, unit = name.partition(" (")
        return f"{head}, {end}" + (f" ({unit}" if paren else "")
    if re.fullmatch(r"[a-z0-9.]+(-[a-z0-9.]+)+", str(column)):
        return str(column)  # a catalog id (a chip or model as a column) keeps its spelling
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def format_number(value, sig: int = 3) -> str:
    """``value`` rounded to ``sig`` significant figures, with thousands separators and no
    exponent: 1234567 -> "1,230,000", 0.012345 -> "0.0123", 2.0 -> "2", nan -> "–"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool,)) or not isinstance(value, numbers.Number):
        return str(value)
    v = float(value)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    digits = sig - 1 - math.floor(math.log10(abs(v)))
    rounded = round(v, digits)
    decimals = max(digits, 0)
    text = f"{rounded:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _cell(value, sig: int) -> tuple[str, bool]:
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return ("yes" if value else "no"), False
    if isinstance(value, numbers.Integral):  # a count or a setting (8,192 tokens), never rounded
        return f"{int(value):,}", True
    if isinstance(value, numbers.Number) or value is None:
        return format_number(value, sig), True
    if isinstance(value, float) and math.isnan(value):
        return "–", True
    if value is pd.NA or value is pd.NaT:
        return "–", False
    return str(value), False


#: Text longer than this is a sentence (a note, a claim): its cell keeps a readable width
#: (``td.prose`` in book.css) instead of being squeezed to a word per line.
PROSE_CHARS = 40
#: Longest one-word cell kept on one line (``llama-3.1-8b``, a date; ``vera-rubin-nvl72`` may
#: still wrap where a wide table needs the room).
WORD_CHARS = 12


def _cell_class(text: str, numeric: bool) -> str:
    if numeric:
        return " class=num"
    if len(text) > PROSE_CHARS:
        return " class=prose"
    # a short word (a chip or model id, a date): never broken at its hyphens ("llama-" / "3.1-8b");
    # a long one (a source key) may still wrap where the column needs it
    return " class=word" if text and " " not in text and len(text) <= WORD_CHARS else ""


class PageTable:
    """A DataFrame formatted for the page; Jupyter and the book show it through its HTML."""

    def __init__(
        self,
        df: pd.DataFrame,
        labels: dict[str, str] | None = None,
        sig: int = 3,
        max_rows: int = MAX_ROWS,
        caption: str | None = None,
    ):
        self.df = df.reset_index(drop=True)
        self.labels, self.sig, self.max_rows, self.caption = labels, sig, max_rows, caption

    @property
    def columns(self) -> list[str]:
        return [human_label(c, self.labels) for c in self.df.columns]

    def rows(self) -> list[list[tuple[str, bool]]]:
        return [
            [_cell(v, self.sig) for v in row] for row in self.df.itertuples(index=False, name=None)
        ]

    def _table(self, rows) -> str:
        numeric = [
            pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
            for t in self.df.dtypes
        ]
        head = "".join(
            f"<th{' class=num' if n else ''}>{html.escape(c)}</th>"
            for c, n in zip(self.columns, numeric)
        )
        body = "".join(
            "<tr>"
            + "".join(f"<td{_cell_class(text, num)}>{html.escape(text)}</td>" for text, num in row)
            + "</tr>"
            for row in rows
        )
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f'<div class="iw-table"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'

    def _repr_html_(self) -> str:
        rows = self.rows()
        if len(rows) <= self.max_rows:
            return self._table(rows)
        return (
            self._table(rows[: self.max_rows])
            + f'<details class="iw-table-more"><summary>Show all {len(rows)} rows</summary>'
            + self._table(rows)
            + "</details>"
        )

    def __repr__(self) -> str:
        return pd.DataFrame(
            [[t for t, _ in r] for r in self.rows()], columns=self.columns
        ).to_string(index=False)


def for_page(
    df,
    labels: dict[str, str] | None = None,
    sig: int = 3,
    max_rows: int = MAX_ROWS,
    caption: str | None = None,
):
    """``df`` as a table for readers (see the module docstring). A Series becomes a one-column
    table whose index is its first column; a DataFrame's index becomes the first column when it
    carries meaning (a named index, or labels other than integers: an unnamed integer index is
    row numbers left by filtering, sorting or concatenating); nested column names are joined.
    Anything that is not a DataFrame or Series is returned as is."""
    series = isinstance(df, pd.Series)
    if series:
        df = df.to_frame(name=df.name if df.name is not None else "value")
    if not isinstance(df, pd.DataFrame):
        return df
    df = df.copy()
    if isinstance(df.columns, pd.MultiIndex):
        df.columns = [": ".join(str(p) for p in col if str(p)) for col in df.columns]
    idx = df.index
    row_numbers = (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1) or (
        not series and pd.api.types.is_integer_dtype(idx)
    )
    if not row_numbers or idx.name is not None:
        unnamed = idx.name is None and not isinstance(idx, pd.MultiIndex)
        df = df.reset_index()
        if unnamed:
            df = df.rename(columns={df.columns[0]: ""})
    return PageTable(df, labels=labels, sig=sig, max_rows=max_rows, caption=caption)


def as_given(value) -> str:
    """A sourced number (a catalog value, a quoted claim) as its source gives it: whole numbers
    whole, others to 6 significant figures, thousands separators. A 1,024-chip domain is not
    rounded to 1,020 as :func:`format_number` would.

    >>> as_given(1024.0), as_given(2e6), as_given(0.0575)
    ('1,024', '2,000,000', '0.0575')
    """
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"  # 2,000,000, not 2e+06
    return f"{v:,.6g}"


def _with_value_range(df: pd.DataFrame) -> pd.DataFrame:
    """``value``, ``low`` and ``high`` as one column that never breaks across lines:
    "265 (257–8,500)", or "815" where the range is a point."""
    if not {"value", "low", "high"} <= set(df.columns):
        return df
    at = list(df.columns).index("value")
    ranges = [
        as_given(v) + ("" if lo == hi else f"\u00a0({as_given(lo)}–\u2060{as_given(hi)})")
        for v, lo, hi in zip(df["value"], df["low"], df["high"])
    ]
    df = df.drop(columns=["value", "low", "high"])
    df.insert(at, "value_range", ranges)
    return df


def spec_sheet(
    chip: str,
    columns=("value", "low", "high", "status", "source", "note"),
    note_chars: int = 90,
    note_prefix: str = "",
):
    """A chip's catalog numbers as a table for readers: each quantity named in words
    (:func:`human_label`: ``tdp_w`` reads "Chip power (W)"), its value with its range in one
    column ("265 (257–8,500)"), status and source, and its note without ``note_prefix`` (a
    sentence every row repeats), cut at a word boundary to ``note_chars`` characters (the full
    notes are in the catalog). Used in chapters 4 and 5."""
    import textwrap

    from .. import catalog

    cid = catalog.get_chip(chip).id
    specs = catalog.chip_specs()
    df = specs[specs["chip"] == cid][["quantity", *columns]].reset_index(drop=True)
    df["quantity"] = [human_label(q) for q in df["quantity"]]
    df = _with_value_range(df)
    if "note" in df:
        df["note"] = [
            textwrap.shorten(str(n).removeprefix(note_prefix), note_chars, placeholder=" …")
            for n in df["note"]
        ]
    return for_page(df, labels={"value_range": "Value (range)"})


def assumption_sheet(
    df: pd.DataFrame, columns=("value", "low", "high", "unit", "status", "source")
):
    """Sourced assumptions (rows with ``key``, ``value``, ``low``, ``high``, ``unit``, ``status``,
    ``source``: ``hardwired.cost_assumptions()``, ``regime.regime_inputs()``) as a table for
    readers: each key named in words, value and range in one column. Used in chapters 4 and 8."""
    out = df[["key", *columns]].reset_index(drop=True)
    out["key"] = [human_label(k) for k in out["key"]]
    return for_page(
        _with_value_range(out), labels={"key": "Assumption", "value_range": "Value (range)"}
    )
