"""The widely benchmarked architectures added to the model catalog, and the aliases that name
releases of an existing architecture."""

import pytest

import inference_wars as iw
from inference_wars.catalog.architecture import parameter_counts
from inference_wars.catalog.schemas import split_aliases
from inference_wars.engine import workload

ADDED = [
    "gpt-oss-20b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "llama-3.2-3b",
    "llama-3.2-1b",
    "mixtral-8x22b",
    "qwen2.5-72b",
]

#: alias -> the architecture row it must resolve to (configs checked identical in every column)
ALIASES = {
    "llama-3.3-70b": "llama-3.1-70b",
    "deepseek-r1-distill-llama-70b": "llama-3.1-70b",
    "deepseek-r1-0528": "deepseek-r1",
    "deepseek-v3-0324": "deepseek-v3",
    "deepseek-v3.1": "deepseek-v3",
    "DeepSeek-V3.1": "deepseek-v3",
    "gptoss-20b": "gpt-oss-20b",
    "qwen3-30b": "qwen3-30b-a3b",
    "llama3.2-3b": "llama-3.2-3b",
    "llama3.2-1b": "llama-3.2-1b",
}


def test_added_models_are_in_the_catalog():
    assert set(ADDED) <= set(iw.model_ids())


# computed against published parameter counts: tests/test_catalog.py checks every catalog model


@pytest.mark.parametrize("model_id", ["qwen3-32b", "llama-3.2-3b", "llama-3.2-1b", "qwen2.5-72b"])
def test_dense_models_use_every_weight_per_token(model_id):
    p = parameter_counts(model_id)
    assert p["params_active"] == p["params_total"]
    assert p["n_moe_layers"] == 0


@pytest.mark.parametrize("model_id", ["llama-3.2-3b", "llama-3.2-1b"])
def test_tied_embeddings_are_stored_once(model_id):
    m = iw.get_model(model_id)
    untied = parameter_counts(m.model_copy(update={"tied_embeddings": False}))
    tied = parameter_counts(m)
    assert untied["params_total"] - tied["params_total"] == m.vocab_size * m.d_model
    # the shared matrix is still the output projection of every token
    assert untied["params_matmul"] == tied["params_matmul"]


def test_moe_additions_activate_a_small_share():
    df = iw.models().set_index("id")
    share = df["params_active_b"] / df["params_total_b"]
    assert share["qwen3-30b-a3b"] < 0.12  # 3.3B of 30.5B
    assert share["gpt-oss-20b"] < 0.2  # 3.6B of 20.9B
    assert 0.25 < share["mixtral-8x22b"] < 0.3  # 2 of 8 experts: 39B of 141B
    assert df.loc["qwen3-30b-a3b", "n_shared_experts"] == 0


def test_gpt_oss_20b_kv_cache_is_half_sliding_like_120b():
    arrays = workload.model_arrays(["gpt-oss-20b", "gpt-oss-120b"])
    assert list(arrays.n_sliding_layers) == [12, 18]
    assert list(arrays.n_full_layers) == [12, 18]
    assert list(arrays.window) == [128, 128]
    long, short = 131_072, 64
    kv_long = workload.kv_bytes_per_sequence(arrays, long, 16)
    kv_short = workload.kv_bytes_per_sequence(arrays, short, 16)
    # within the window every layer holds the whole context; beyond it only the full layers grow
    full_per_token = arrays.kv_elems_per_token_layer * 2 * arrays.n_layers
    assert kv_short == pytest.approx(full_per_token * short)
    assert kv_long / (full_per_token * long) == pytest.approx(0.5, rel=0.01)
    # same attention shape per layer, so the 20b holds 24/36 of the 120b's cache
    assert kv_long[0] / kv_long[1] == pytest.approx(24 / 36)


@pytest.mark.parametrize("alias, model_id", sorted(ALIASES.items()))
def test_each_alias_resolves_to_its_architecture(alias, model_id):
    assert iw.get_model(alias).id == model_id


def test_aliases_are_unique_and_never_shadow_an_id():
    ids = set(iw.model_ids())
    seen: dict[str, str] = {}
    for model_id in ids:
        for alias in split_aliases(iw.get_model(model_id).aliases):
            assert alias not in ids, f"alias {alias!r} of {model_id} is itself a model id"
            assert alias not in seen, f"alias {alias!r} names both {seen[alias]} and {model_id}"
            seen[alias] = model_id


@pytest.mark.parametrize(
    "name", ["llama-3-8b", "llama-3-70b", "mixtral-8x22b-instruct", "deepseek-r1-distill-llama-8b"]
)
def test_releases_that_are_not_aliases(name):
    """Llama 3 8B/70B stop at 8,192 tokens (Llama 3.1: 131,072) and Mixtral 8x22B Instruct has a
    32,768-token vocabulary (the base release: 32,000). DeepSeek-R1-Distill-Llama-8B has Llama
    3.1 8B's shape, but an alias resolves to the row's id and Taalas HC1 is hard-wired to Llama
    3.1 8B's *weights*: as an alias it would run on HC1. None of them is an alias; the error
    still points at the nearest architecture."""
    with pytest.raises(iw.UnknownNameError) as err:
        iw.get_model(name)
    assert err.value.suggestions


def test_no_alias_of_a_hard_wired_model():
    """A hard-wired chip runs one set of weights; any other name for its model would pass the
    'runs no other model' check, so its row carries only spellings of that one release."""
    for chip_id in iw.chip_ids():
        wired = iw.get_chip(chip_id).hardwired_model
        if wired:
            aliases = split_aliases(iw.get_model(wired).aliases)
            assert not any("distill" in a or a.startswith("llama-3-") for a in aliases), aliases


def test_unknown_name_suggests_the_new_row():
    with pytest.raises(ValueError, match="qwen3-32b"):
        iw.estimate("qwen3-33b", "h100-sxm")
