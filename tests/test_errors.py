"""Bad input gets a clear error, never a numpy traceback or a NaN."""

import pytest

import inference_wars as iw
from inference_wars.cli import main


@pytest.mark.parametrize(
    "bad, expected",
    [
        ("h100", "h100-sxm"),
        ("H100 SXM", "h100-sxm"),
        ("h10-sxm", "h100-sxm"),
        ("tpu-ironwod", "tpu-ironwood"),
        ("cerebras", "cerebras-wse3"),
    ],
)
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


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch=0), "batch must be a positive integer"),
        (dict(batch=-3), "batch must be a positive integer"),
        (dict(batch=2.5), "batch must be a positive integer"),
        (dict(input_tokens=0), "input_tokens must be a positive integer"),
        (dict(output_tokens="many"), "output_tokens must be a positive integer"),
        (dict(n_chips=0), "n_chips must be a positive integer"),
        (
            dict(precision="taalas-3b6b"),
            "h100-sxm cannot run taalas-3b6b.*formats it runs: bf16, fp8",
        ),
        (dict(precision="fp5"), "unknown format 'fp5'"),
        (dict(kv_precision="taalas-3b6b"), "not a KV-cache format"),
        (dict(input_tokens=200_000), "maximum context of 131,072"),
        (dict(scenario="wild"), "scenario must be one of"),
        (dict(utilization=1.5), "utilization is a fraction"),
        (dict(pue=-1), r"pue must be in \[1, 10\]"),
        (dict(usd_per_kwhh=0.1), "did you mean 'usd_per_kwh'"),
    ],
)
def test_impossible_settings_say_why(kwargs, message):
    with pytest.raises(ValueError, match=message):
        iw.estimate("llama-3.1-8b", "h100-sxm", **kwargs)


def test_hardwired_chip_refuses_other_models():
    with pytest.raises(ValueError, match="hard-wired to llama-3.1-8b"):
        iw.estimate("llama-3.1-70b", "taalas-hc1")


def test_sweep_skips_invalid_combinations_and_says_so():
    df = iw.sweep(
        ["llama-3.1-8b", "llama-3.1-70b"],
        ["h100-sxm", "taalas-hc1"],
        precision=[None, "taalas-3b6b"],
    )
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

    assert (
        main(["compare", "-m", "llama-3.1-70b", "--chips", "h100-sxm,b200", "-b", "8", "--json"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["chip"] for r in rows] == ["h100-sxm", "b200"] and all(r["fits"] for r in rows)


def test_cli_table_and_lists(capsys):
    assert main(["estimate", "-m", "llama-3.1-8b", "-c", "h100-sxm"]) == 0
    out = capsys.readouterr().out
    assert "tok/s/user" in out and "memory" in out
    assert main(["chips"]) == 0 and "taalas-hc1" in capsys.readouterr().out
    assert main(["models", "--json"]) == 0 and "deepseek-r1" in capsys.readouterr().out


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "inference_wars", "estimate", "-m", "llama-3.1-8b", "-c", "nope"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "arguments are required: command"),
        (["estimate", "-m", "llama-3.1-8b"], "required: --chip"),
        (
            ["estimate", "-m", "llama-3.1-8b", "-c", "h100-sxm", "--batch", "abc"],
            "invalid int value: 'abc'",
        ),
        (
            ["estimate", "-m", "llama-3.1-8b", "-c", "h100-sxm", "--scenario", "wild"],
            "invalid choice: 'wild'",
        ),
        (
            ["estimate", "-m", "llama-3.1-8b", "-c", "h100-sxm", "--bogus"],
            "unrecognized arguments: --bogus",
        ),
        (["nonsense"], "invalid choice: 'nonsense'"),
        (
            [
                "estimate",
                "-m",
                "llama-3.1-70b",
                "-c",
                "h100-sxm",
                "--batch",
                "9223372036854775808",
                "--json",
            ],
            "batch must be at most 10,000,000",
        ),
    ],
)
def test_cli_argparse_rejections_are_one_error_line(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err
    assert "usage:" not in err and captured.out == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--output", "/proc/version"], "must be a path to a .csv file"),
        (["--output", "/"], "must be a path to a .csv file"),
        (["--output", "inference_wars/data/measured/x.csv"], "package's own folder"),
        (["--output", "x.csv", "--date", "2025-02-30"], "--date must be a date"),
        (["--output", "x.csv", "--date", "20250101"], "--date must be a date"),
        (["--update-shipped", "--date", "yesterday"], "--date must be a date"),
        (["--update-shipped", "--jobs", "0"], "--jobs must be at least 1"),
    ],
)
def test_cli_calibrate_rejects_bad_paths_and_dates_before_fitting(
    args, message, capsys, monkeypatch
):
    from inference_wars import calibration

    def no_fit(*a, **k):  # the checks must come first: a rejected call never fits or writes
        raise AssertionError("calibration.run called for rejected arguments")

    monkeypatch.setattr(calibration, "run", no_fit)
    assert main(["calibrate", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err


def test_cli_calibrate_output_file_in_a_read_only_folder(tmp_path, capsys, monkeypatch):
    import os

    from inference_wars import calibration

    monkeypatch.setattr(
        calibration, "run", lambda **k: (_ for _ in ()).throw(AssertionError("fit ran"))
    )
    (tmp_path / "x_held_out.csv").mkdir()  # the held-out sibling cannot be written as a file
    assert main(["calibrate", "--output", str(tmp_path / "x.csv")]) == 2
    assert "cannot write" in capsys.readouterr().err
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        assert main(["calibrate", "--output", str(ro / "fit.csv")]) == 2
        assert "not writable" in capsys.readouterr().err


def test_cli_closed_pipe_ends_quietly():
    import os
    import subprocess
    import sys

    r = subprocess.run(
        f"{sys.executable} -m inference_wars chips | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert r.stdout.split()[0] == "id" and r.stderr == "", r.stderr
    # a reader that is gone before the first write: every write fails with EPIPE, deterministically
    read_end, write_end = os.pipe()
    os.close(read_end)
    p = subprocess.run(
        [sys.executable, "-m", "inference_wars", "chips"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    assert p.stderr == "" and p.returncode == 0, p.stderr


@pytest.mark.parametrize(
    "name, model",
    [
        ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.1-70b"),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("meta-llama/Llama-2-70b-chat-hf", "llama-2-70b"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"),
        ("deepseek-ai/DeepSeek-R1", "deepseek-r1"),
        ("Qwen/Qwen3-32B", "qwen3-32b"),
    ],
)
def test_a_hugging_face_repository_name_finds_its_architecture(name, model):
    assert iw.get_model(name).id == model


def test_a_repository_name_is_an_alias_only_where_the_release_matches_its_architecture():
    # a precision suffix names a format (precision=), not an architecture; Mixtral 8x22B Instruct's
    # vocabulary differs from its base's: both refused, with the architecture suggested
    with pytest.raises(iw.UnknownNameError, match="did you mean 'llama-3.1-70b'"):
        iw.get_model("meta-llama/Llama-3.1-70B-Instruct-FP8")
    with pytest.raises(iw.UnknownNameError, match="mixtral-8x22b"):
        iw.get_model("mistralai/Mixtral-8x22B-Instruct-v0.1")
