"""The catalogs: schema, sources, completeness."""

import csv
from pathlib import Path

import pytest
from pybtex.database import parse_file

import inference_wars as iw
from inference_wars import catalog
from inference_wars.catalog.architecture import parameter_counts

DATA = Path(catalog.DATA_DIR)
REQUIRED_CHIPS = [
    "a100-sxm",
    "h100-sxm",
    "h200",
    "b200",
    "gb200-nvl72",
    "rubin-gpu",
    "vera-rubin-nvl72",
    "mi300x",
    "mi355x",
    "tpu-v5e",
    "tpu-v6e",
    "tpu-ironwood",
    "inferentia2",
    "groq-lpu",
    "cerebras-wse3",
    "dmatrix-corsair",
    "taalas-hc1",
    "matx-one",
]
REQUIRED_MODELS = [
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "llama-2-70b",
    "mixtral-8x7b",
    "deepseek-v3",
    "deepseek-r1",
    "gpt-oss-120b",
    "qwen3-235b-a22b",
    "kimi-k2",
]


def bib_keys_parsed() -> set[str]:
    keys: set[str] = set()
    for path in (DATA / "references").glob("*.bib"):
        db = parse_file(str(path))  # raises on malformed BibTeX
        dupes = keys & set(db.entries)
        assert not dupes, f"{path.name} redefines {dupes}"
        keys |= set(db.entries)
    return keys


def test_bibtex_parses_and_matches_the_loader():
    assert bib_keys_parsed() == set(catalog.bib_keys())


def test_every_catalog_number_has_a_source_in_the_bibliography():
    keys = bib_keys_parsed()
    specs = iw.chip_specs()
    missing = set(specs["source"]) - keys
    assert not missing, f"chip specs cite unknown keys {missing}"
    for frame, col in (
        (iw.models(), "source"),
        (iw.formats(), "source"),
        (iw.assumptions(), "source"),
    ):
        assert set(frame[col]) <= keys
    assert specs["date"].str.match(r"^\d{4}-\d{2}").all()
    assert specs["status"].isin(["measured", "announced", "estimated"]).all()


def test_estimates_carry_ranges_that_contain_the_value():
    specs = iw.chip_specs()
    est = specs[specs["status"] == "estimated"]
    assert len(est) > 0
    assert (est["low"] <= est["value"]).all() and (est["value"] <= est["high"]).all()
    assert ((est["high"] > est["low"]) | (est["value"] == 0)).any()


def test_required_chips_and_models_are_present():
    assert set(REQUIRED_CHIPS) <= set(iw.chip_ids())
    assert set(REQUIRED_MODELS) <= set(iw.model_ids())


@pytest.mark.parametrize("chip_id", REQUIRED_CHIPS)
def test_each_chip_has_what_the_model_needs(chip_id):
    c = iw.get_chip(chip_id)
    assert c.compute_formats, f"{chip_id} has no dense peak"
    storage = (
        c.get("hbm_gb")
        + (c.get("sram_mb") / 1e3 if c.sram_role == "storage" else 0)
        + c.get("rom_gb")
    )
    assert storage > 0, f"{chip_id} has nowhere to keep weights"
    bandwidth = c.get("hbm_tb_s") + c.get("sram_tb_s") + c.get("rom_tb_s")
    assert bandwidth > 0
    assert c.get("power_w") or c.get("tdp_w")
    assert c.get("price_usd") > 0
    assert c.has("scaleup_domain")


def test_speculative_chips_are_labelled_estimates():
    matx = iw.get_chip("matx-one")
    assert matx.release_status == "projected"
    assert all(s.status == "estimated" for s in matx.specs.values())
    prices = iw.chip_specs().query(
        "quantity == 'price_usd' and chip in ['vera-rubin-nvl72', 'rubin-gpu', 'matx-one']"
    )
    assert (prices["status"] == "estimated").all() and (prices["high"] > prices["low"]).all()


@pytest.mark.parametrize("model_id", iw.model_ids())  # every catalog model, the added ones too
def test_parameter_counts_match_published_totals(model_id):
    m = iw.get_model(model_id)
    p = parameter_counts(m)
    assert p["params_total_b"] == pytest.approx(m.published_total_b, rel=0.02)
    assert p["params_active_b"] == pytest.approx(m.published_active_b, rel=0.02)


def test_moe_active_is_a_small_fraction_and_dense_active_is_total():
    df = iw.models().set_index("id")
    assert df.loc["deepseek-r1", "params_active_b"] / df.loc["deepseek-r1", "params_total_b"] < 0.06
    assert df.loc["llama-3.1-70b", "params_active_b"] == df.loc["llama-3.1-70b", "params_total_b"]


def test_chips_frame_has_source_columns():
    df = iw.chips()
    for col in (
        "hbm_tb_s",
        "hbm_tb_s_source",
        "hbm_tb_s_status",
        "price_usd_low",
        "price_usd_high",
    ):
        assert col in df.columns
    assert df["id"].is_unique


def test_a_broken_row_is_reported_with_file_and_line(tmp_path, monkeypatch):
    bad = tmp_path / "chips.csv"
    rows = list(csv.reader((DATA / "chips.csv").open()))
    rows[1][5] = "someday"  # release_status
    with bad.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(catalog.CatalogError, match=r"chips.csv:2: .*release_status"):
        catalog.read_rows(bad, catalog.ChipRow)


def test_estimated_spec_without_bounds_is_rejected():
    with pytest.raises(ValueError, match="low and high"):
        catalog.SpecRow(
            chip="h100-sxm",
            quantity="price_usd",
            value=1,
            status="estimated",
            source="x",
            date="2024-01",
        )


def test_unknown_quantity_suggests_the_right_name():
    with pytest.raises(ValueError, match="hbm_tb_s"):
        catalog.SpecRow(
            chip="h100-sxm",
            quantity="hbm_tbs",
            value=1,
            status="announced",
            source="x",
            date="2024-01",
        )


# --------------------------------------------------------------------------- corrupted copies of the data

_LOADERS = ("_chips", "_models", "_formats", "_assumptions", "_market", "bib_keys")


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of the data folder that the catalog loads from (caches cleared around it)."""
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    clear = lambda: [getattr(loading, f).cache_clear() for f in _LOADERS if hasattr(loading, f)]  # noqa: E731
    clear()
    monkeypatch.setattr(loading, "DATA_DIR", copy)
    yield copy
    monkeypatch.undo()
    clear()


from inference_wars.catalog import loading  # noqa: E402  (the module that reads the data folder)


def _drop_rows(path, keep):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([lines[0]] + [x for x in lines[1:] if keep(x)]), encoding="utf-8")


def _load(kind):
    return {
        "chips": loading._chips,
        "formats": loading._formats,
        "assumptions": loading._assumptions,
    }[kind]()


@pytest.mark.parametrize(
    "corrupt, kind, message",
    [
        # a chip-specs file with only its header: chips would silently lose their numbers
        (
            lambda d: _drop_rows(
                next(iter(sorted((d / "chip_specs").glob("*.csv")))), lambda x: False
            ),
            "chips",
            r"asics\.csv:2: the table has a header but no rows",
        ),
        (
            lambda d: (d / "formats.csv").write_text("", encoding="utf-8"),
            "formats",
            r"formats.csv:1: .*file is empty",
        ),
        (lambda d: (d / "chips.csv").unlink(), "chips", r"chips.csv: cannot read"),
        (
            lambda d: [p.unlink() for p in (d / "chip_specs").glob("*.csv")],
            "chips",
            r"chip_specs/: no \*.csv",
        ),
        (
            lambda d: (d / "formats.csv").write_text(
                (d / "formats.csv").read_text(encoding="utf-8")
                + (d / "formats.csv").read_text(encoding="utf-8").splitlines()[1]
                + "\n",
                encoding="utf-8",
            ),
            "formats",
            r"formats.csv:\d+: duplicate id '[\w.-]+' \(first on line 2\)",
        ),
        (
            lambda d: (d / "assumptions.csv").write_text(
                (d / "assumptions.csv").read_text(encoding="utf-8")
                + (d / "assumptions.csv").read_text(encoding="utf-8").splitlines()[1]
                + "\n",
                encoding="utf-8",
            ),
            "assumptions",
            r"assumptions.csv:\d+: duplicate key 'compute_efficiency' \(first on line 2\)",
        ),
        (
            lambda d: _drop_rows(d / "assumptions.csv", lambda x: not x.startswith("pue,")),
            "assumptions",
            r"assumptions.csv:\d+: missing required assumption\(s\) pue",
        ),
        (
            lambda d: (d / "chips.csv").write_text("id,name\nh100-sxm,H100\n", encoding="utf-8"),
            "chips",
            r"chips.csv:1: header lacks column\(s\) vendor",
        ),
    ],
)
def test_a_corrupted_catalog_fails_at_load_with_file_and_line(data_copy, corrupt, kind, message):
    corrupt(data_copy)
    with pytest.raises(catalog.CatalogError, match=message):
        _load(kind)


def test_a_missing_chips_file_is_one_error_line_in_the_cli(data_copy, capsys):
    from inference_wars.cli import main

    (data_copy / "chips.csv").unlink()
    assert main(["chips"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: chips.csv: cannot read") and "\n" not in err


def test_the_shipped_catalog_defines_every_required_assumption():
    assert set(catalog.required_assumptions()) <= set(catalog.assumption_keys())
    assert (
        "pue" in catalog.required_assumptions()
        and "layer_floor_us" not in catalog.required_assumptions()
    )


def test_a_spec_read_under_an_unknown_scenario_is_an_error():
    with pytest.raises(ValueError, match="scenario must be one of"):
        iw.get_chip("h100-sxm").get("hbm_tb_s", scenario="optimstic")


def test_blackwell_ultra_rows_match_the_datasheet_and_sit_beside_blackwell():
    """B300 / GB300 NVL72 (issue 12): dense FP4 up 1.5x over Blackwell, FP8 and memory bandwidth
    not up, more HBM; every spec sourced; the estimate on them lands near B200 / GB200."""
    specs = iw.chip_specs().query("chip in ['b300', 'gb300-nvl72']")
    assert set(specs["source"]) <= bib_keys_parsed()
    assert not specs["source"].str.contains("faqtw|awesomeagents|reportslab|worldtodaynews").any()
    b300, gb300 = iw.get_chip("b300"), iw.get_chip("gb300-nvl72")
    assert (b300.get("peak_dense_tflops_fp4"), gb300.get("peak_dense_tflops_fp4")) == (14000, 15000)
    assert b300.get("peak_dense_tflops_fp8") == iw.get_chip("b200").get("peak_dense_tflops_fp8")
    assert b300.get("hbm_gb") > iw.get_chip("b200").get("hbm_gb")
    assert gb300.get("scaleup_domain") == 72 and b300.get("scaleup_domain") == 8
    for new, old in (("b300", "b200"), ("gb300-nvl72", "gb200-nvl72")):
        e_new = iw.estimate("llama-3.1-70b", new, batch=32, precision="nvfp4")
        e_old = iw.estimate("llama-3.1-70b", old, batch=32, precision="nvfp4")
        assert 0.8 < e_new.tokens_per_s_per_user / e_old.tokens_per_s_per_user < 1.5, new
        assert 0.6 < e_new.usd_per_million_tokens / e_old.usd_per_million_tokens < 1.6, new


def test_rubin_bf16_note_explains_why_it_is_not_half_of_fp8():
    row = (
        iw.chip_specs()
        .query("chip == 'rubin-gpu' and quantity == 'peak_dense_tflops_bf16'")
        .iloc[0]
    )
    fp8 = iw.get_chip("rubin-gpu").get("peak_dense_tflops_fp8")
    assert row["value"] < fp8 / 2 and row["status"] == "estimated" and row["low"] < row["value"]
    assert "not half of FP8" in row["note"]


def test_rubin_cpx_and_etched_sohu_rows_are_sourced_and_honest_about_what_is_published():
    """Issue 12: Rubin CPX (GDDR7, no NVLink, withdrawn in March 2026) and Etched Sohu (announced):
    only the vendors' own figures are `announced`; everything derived carries a range."""
    specs = iw.chip_specs().query("chip in ['rubin-cpx', 'etched-sohu']")
    assert set(specs["source"]) <= bib_keys_parsed()
    ann = specs[specs["status"] == "announced"]
    announced = set(ann["quantity"] + "@" + ann["chip"])
    assert announced == {"hbm_gb@rubin-cpx", "hbm_gb@etched-sohu", "scaleup_domain@etched-sohu"}
    est = specs[specs["status"] == "estimated"]
    assert (est["low"] < est["high"]).all() and est["note"].str.len().gt(40).all()
    cpx, sohu = iw.get_chip("rubin-cpx"), iw.get_chip("etched-sohu")
    assert cpx.release_status == "withdrawn" and cpx.memory_kind == "GDDR7"
    assert sohu.release_status == "announced" and sohu.compute_formats == ("fp8",)
    # 30 PFLOPS NVFP4 is NVIDIA's (not dense) figure: the high end; SemiAnalysis' 20 dense the value
    assert (
        cpx.specs["peak_dense_tflops_fp4"].high == 30000
        and cpx.get("peak_dense_tflops_fp4") == 20000
    )
    assert (
        cpx.get("hbm_gb") == 128
        and cpx.get("hbm_tb_s") < iw.get_chip("rubin-gpu").get("hbm_tb_s") / 5
    )
    assert cpx.get("price_usd") < iw.get_chip("rubin-gpu").get("price_usd") / 2
    assert sohu.get("hbm_gb") == 144
    # Sohu's FP8 peak is derived from Etched's own claim: 500,000 tokens/s per 8 chips at 90%
    flops_per_token = 2 * iw.models().set_index("id").loc["llama-3.1-70b", "params_total"]
    assert sohu.get("peak_dense_tflops_fp8") == pytest.approx(
        500_000 / 8 * flops_per_token / 0.9 / 1e12, rel=0.01
    )


def test_a_withdrawn_release_status_is_accepted_and_others_are_not(tmp_path):
    row = catalog.ChipRow(
        id="x",
        name="X",
        vendor="V",
        category="gpu",
        unit="one",
        release_status="withdrawn",
        memory_kind="GDDR7",
        sram_role="cache",
    )
    assert row.release_status == "withdrawn"
    with pytest.raises(ValueError, match="release_status"):
        catalog.ChipRow(**{**row.model_dump(), "release_status": "cancelled"})


def test_every_data_file_ships_in_the_package():
    """pyproject's package-data globs cover every data file, so an install from git (Colab's
    first cell) carries the measured and forward tables too."""
    import tomllib

    root = DATA.parent
    cfg = tomllib.loads((root.parent / "pyproject.toml").read_text(encoding="utf-8"))
    globs = cfg["tool"]["setuptools"]["package-data"]["inference_wars"]
    files = [
        p.relative_to(root).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"
    ]
    assert len(files) > 40
    shipped = {p.relative_to(root).as_posix() for g in globs for p in root.glob(g)}
    missing = sorted(set(files) - shipped)
    assert not missing, f"not in pyproject's package-data: {missing}"
