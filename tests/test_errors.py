"""Bad input gets a clear error, never a numpy traceback or a NaN."""

import pytest

import inference_wars as iw
from inference_wars.cli import main


@pytest.mark.parametrize("bad, expected", [("h100", "h100-sxm"), ("H100 SXM", "h100-sxm"), ("h10-sxm", "h100-sxm"),
                                            ("tpu-ironwod", "tpu-ironwood"), ("cerebras", "cerebras-wse3")])
def test_chip_names_resolve_or_suggest(bad, expected):
    try:
        assert iw.get_chip(bad).id == expected
    except iw.UnknownNameError as exc:
        assert expected in exc.suggestions and expected in str(exc)


def test_unknown_model_suggests_closest():
    with pytest.raises(iw.UnknownNameError, match="did you mean 'llama-3.1-70b'"):
        iw.estimate("lama-3.1-70b", "h100-sxm")
    with pytest.raises(ValueError, match="known models"):
        iw.estimate("gpt-5", "h100-sxm")


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch=0), "batch must be a positive integer"),
    (dict(batch=-3), "batch must be a positive integer"),
    (dict(batch=2.5), "batch must be a positive integer"),
    (dict(input_tokens=0), "input_tokens must be a positive integer"),
    (dict(output_tokens="many"), "output_tokens must be a positive integer"),
    (dict(n_chips=0), "n_chips must be a positive integer"),
    (dict(precision="taalas-3b6b"), "h100-sxm cannot run taalas-3b6b.*formats it runs: bf16, fp8"),
    (dict(precision="fp5"), "unknown format 'fp5'"),
    (dict(kv_precision="taalas-3b6b"), "not a KV-cache format"),
    (dict(input_tokens=200_000), "maximum context of 131,072"),
    (dict(scenario="wild"), "scenario must be one of"),
    (dict(utilization=1.5), "utilization is a fraction"),
    (dict(pue=-1), r"pue must be in \[1, 10\]"),
    (dict(usd_per_kwhh=0.1), "did you mean 'usd_per_kwh'"),
])
def test_impossible_settings_say_why(kwargs, message):
    with pytest.raises(ValueError, match=message):
        iw.estimate("llama-3.1-8b", "h100-sxm", **kwargs)


def test_hardwired_chip_refuses_other_models():
    with pytest.raises(ValueError, match="hard-wired to llama-3.1-8b"):
        iw.estimate("llama-3.1-70b", "taalas-hc1")


def test_sweep_skips_invalid_combinations_and_says_so():
    df = iw.sweep(["llama-3.1-8b", "llama-3.1-70b"], ["h100-sxm", "taalas-hc1"], precision=[None, "taalas-3b6b"])
    assert set(df["chip"]) == {"h100-sxm", "taalas-hc1"}
    assert not ((df["chip"] == "taalas-hc1") & (df["model"] == "llama-3.1-70b")).any()
    assert any("h100-sxm cannot run taalas-3b6b" in s for s in df.attrs["skipped"])
    assert any("hard-wired" in s for s in df.attrs["skipped"])


def test_sweep_with_nothing_valid_raises():
    with pytest.raises(ValueError, match="cannot run taalas-3b6b"):
        iw.sweep("llama-3.1-8b", "a100-sxm", precision="taalas-3b6b")


def test_a_narrow_format_without_tensor_cores_runs_weight_only():
    # FP4 weights on an H100 are unpacked to 16 bits: half the bytes of FP8, the bf16 peak
    e = iw.estimate("llama-3.1-70b", "h100-sxm", precision="nvfp4")
    assert e.fits and e.n_chips == 1
    assert iw.get_chip("h100-sxm").get("peak_dense_tflops_bf16") > 0


def test_cli_errors_are_one_line_and_exit_2(capsys):
    assert main(["estimate", "-m", "llama-3.1-8b", "-c", "h100x", "-b", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown chip 'h100x'") and "\n" not in err
    assert main(["estimate", "-m", "llama-3.1-8b", "-c", "h100-sxm", "-b", "-4"]) == 2
    assert "batch must be a positive integer" in capsys.readouterr().err


def test_cli_compare_json(capsys):
    import json
    assert main(["compare", "-m", "llama-3.1-70b", "--chips", "h100-sxm,b200", "-b", "8", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["chip"] for r in rows] == ["h100-sxm", "b200"] and all(r["fits"] for r in rows)


def test_cli_table_and_lists(capsys):
    assert main(["estimate", "-m", "llama-3.1-8b", "-c", "h100-sxm"]) == 0
    out = capsys.readouterr().out
    assert "tok/s/user" in out and "memory" in out
    assert main(["chips"]) == 0 and "taalas-hc1" in capsys.readouterr().out
    assert main(["models", "--json"]) == 0 and "deepseek-r1" in capsys.readouterr().out


def test_python_dash_m_entry_point():
    import subprocess, sys
    r = subprocess.run([sys.executable, "-m", "inference_wars", "estimate", "-m", "llama-3.1-8b", "-c", "nope"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
