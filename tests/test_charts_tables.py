"""Chart colours a reader can tell apart, and tables formatted for the page (no browser)."""

import itertools

import numpy as np
import pandas as pd
import pytest

import inference_wars as iw
from inference_wars import charts, tables

# Machado, Oliveira & Fernandes (2009) full-severity simulation matrices, linear RGB.
CVD = {
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
}


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ np.clip(linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, vision: str | None = None) -> float:
    """CIE76 colour difference, optionally as seen with a colour-vision deficiency."""
    la, lb = _linear(a), _linear(b)
    if vision:
        la, lb = CVD[vision] @ la, CVD[vision] @ lb
    return float(np.linalg.norm(_lab(la) - _lab(lb)))


def test_delta_e_sees_what_a_colour_blind_reader_cannot():
    # pure red and green differ a lot for most readers, much less with deuteranopia
    assert delta_e("#ff0000", "#00ff00") > 80
    assert delta_e("#ff0000", "#00ff00", "deuteranopia") < delta_e("#ff0000", "#00ff00") / 2


def test_every_catalog_chip_has_its_own_colour_and_new_ids_get_one():
    ids = list(iw.chips()["id"])
    assert set(ids) <= set(charts.CHIP_COLORS)
    assert len(set(charts.CHIP_COLORS.values())) == len(charts.CHIP_COLORS)
    assert charts.chip_color("no-such-chip") == "#555555"
    scale = charts.chip_color_scale(["b200", "gb200-nvl72"])
    assert scale.range == [charts.CHIP_COLORS["b200"], charts.CHIP_COLORS["gb200-nvl72"]]


def test_every_pair_of_chip_colours_is_distinguishable():
    pairs = list(itertools.combinations(charts.CHIP_COLORS, 2))
    worst = min(pairs, key=lambda p: delta_e(charts.CHIP_COLORS[p[0]], charts.CHIP_COLORS[p[1]]))
    assert delta_e(charts.CHIP_COLORS[worst[0]], charts.CHIP_COLORS[worst[1]]) >= 15, worst
    for vision in CVD:  # red-green colour blindness: no two chips collapse into one colour
        d, a, b = min(
            (delta_e(charts.CHIP_COLORS[a], charts.CHIP_COLORS[b], vision), a, b) for a, b in pairs
        )
        assert d >= 5, (vision, a, b, d)


def test_nvidia_generations_share_a_hue_family_but_stay_clearly_different():
    nvidia = [
        c
        for c in charts.CHIP_COLORS
        if c in set(iw.chips().query("vendor == 'NVIDIA'")["id"])
        or c in ("b300", "gb300-nvl72", "rubin-cpx")
    ]
    assert {"h100-sxm", "h200", "b200", "gb200-nvl72"} <= set(nvidia)
    for a, b in itertools.combinations(nvidia, 2):
        for vision in (None, *CVD):
            assert delta_e(charts.CHIP_COLORS[a], charts.CHIP_COLORS[b], vision) >= 12, (
                a,
                b,
                vision,
            )
    for chip in nvidia:  # green-teal family: green channel dominates red
        r, g, _ = (int(charts.CHIP_COLORS[chip][i : i + 2], 16) for i in (1, 3, 5))
        assert g > r, chip


@pytest.mark.parametrize(
    "value,text", [(1e6, "1M"), (3e9, "3B"), (1e12, "1T"), (4096, "4,096"), (12345, "12.3k")]
)
def test_counts_are_labelled_as_a_reader_says_them(value, text):
    assert charts.count_label(value) == text


def test_theme_labels_big_numbers_humanly():
    cfg = charts.theme()["config"]
    assert cfg["axisQuantitative"]["labelExpr"] == charts.BIG_NUMBER_LABEL_EXPR
    assert cfg["range"]["category"] == charts.CATEGORY_COLORS


def test_book_renderer_hands_the_spec_to_the_responsive_embed():
    out = charts._book_renderer({"mark": "bar", "title": "</script>"})["text/html"]
    assert 'class="iw-chart"' in out and "iwEmbed(el,spec)" in out
    assert '</script>"' not in out  # a title cannot close the script early


def test_metric_axis_title_is_carried_in_usermeta():
    import altair as alt

    c = charts.metric_axis_title(
        alt.Chart(pd.DataFrame({"a": [1]})).mark_point().encode(y="a:Q"), "metric"
    )
    assert c.to_dict()["usermeta"]["iw_axis_titles"] == {"y": "metric"}


@pytest.mark.parametrize(
    "value,text",
    [
        (1234567, "1,230,000"),
        (0.012345, "0.0123"),
        (2.0, "2"),
        (999.6, "1,000"),
        (-45.678, "-45.7"),
        (float("nan"), "–"),
        (0, "0"),
        (12, "12"),
    ],
)
def test_numbers_are_rounded_to_three_significant_figures(value, text):
    assert tables.format_number(value) == text


def test_table_for_page_has_human_names_no_index_and_collapses_when_long():
    df = pd.DataFrame(
        {
            "chip": ["h100-sxm", "b200"],
            "tokens_per_s_per_user": [51.234, 1234.5],
            "n_chips": [2.0, 8.0],
            "fits": [True, False],
        }
    )
    page = tables.for_page(df, labels={"fits": "Fits in memory"})
    out = page._repr_html_()
    assert (
        "Speed per user (tokens/s)" in out
        and "Fits in memory" in out
        and "tokens_per_s_per_user" not in out
    )
    assert ">51.2<" in out and ">1,230<" in out and ">2<" in out and ">yes<" in out
    assert ">0<" not in out and "<details" not in out  # no row numbers
    long = tables.for_page(pd.DataFrame({"x": range(30)}), max_rows=10)._repr_html_()
    assert "<details" in long and "Show all 30 rows" in long
    named = tables.for_page(df.rename_axis("regime"))._repr_html_()
    assert "Regime" in named  # a named index is a real column
    counts = tables.for_page(
        pd.Series(["b200", "b200", "h200"], name="winner").value_counts()
    )._repr_html_()
    assert ">b200<" in counts and ">2<" in counts  # a Series with a meaningful index keeps it
    # rows picked out of a longer table keep their old numbers as an unnamed integer index: dropped
    picked = tables.for_page(pd.concat([df, df]).sort_values("n_chips").head(3))._repr_html_()
    assert ">0<" not in picked and ">1<" not in picked and "<th></th>" not in picked
    exact = tables.for_page(pd.DataFrame({"context": [8192, 131072], "tps": [8192.0, 1234.5]}))
    # integers are settings or counts, shown whole; measured floats keep 3 significant figures
    assert ">8,192<" in exact._repr_html_() and ">131,072<" in exact._repr_html_()
    assert ">8,190<" in exact._repr_html_() and ">1,230<" in exact._repr_html_()
    sizes = tables.for_page(pd.Series({1: 65, 4: 17}, name="chips"))._repr_html_()
    assert ">4<" in sizes and ">17<" in sizes  # a Series' integer index is its data: kept
    assert tables.for_page("not a table") == "not a table"


def test_a_range_column_reads_as_its_metric_with_low_or_high():
    from inference_wars.book.tables import human_label

    assert human_label("ttft_s_low") == "Time to first token, low (s)"
    assert human_label("joules_per_token_high") == "Energy, high (J per token)"
    assert human_label("n_chips_low") == "Chips, low"
    assert human_label("x_low", {"x": "X (GB)"}) == "X, low (GB)"
    assert human_label("tpu-ironwood") == "tpu-ironwood"  # catalog ids keep their spelling


def test_every_chip_quantity_has_a_reader_label_and_spec_sheets_use_them():
    """A chip's spec sheet names each catalog quantity in words (a new quantity in the schema needs
    its label), and cuts long notes at a word boundary."""
    from inference_wars.catalog.schemas import QUANTITIES

    assert not [q for q in QUANTITIES if q not in tables.COLUMN_LABELS]
    sheet = tables.spec_sheet("taalas-hc1", note_chars=60)
    assert "Chip power (W)" in set(sheet.df["quantity"]) and "tdp_w" not in set(
        sheet.df["quantity"]
    )
    assert all(len(n) <= 60 for n in sheet.df["note"])
    assert any(n.endswith("…") for n in sheet.df["note"])


def test_assumption_sheets_name_keys_in_words_and_never_print_exponents():
    from inference_wars.analyses import regime

    sheet = tables.assumption_sheet(regime.regime_inputs())
    assert "Engineering per tape-out" in set(sheet.df["key"])
    ranges = " ".join(sheet.df["value_range"])
    assert "2,000,000" in ranges and "e+" not in ranges
    assert "Assumption" in sheet._repr_html_() and "mask_usd" not in sheet._repr_html_()
