"""Command line: ``python -m inference_wars estimate|compare|chips|models|calibrate ...``.

Bad input prints one line starting with ``error:`` and exits with status 2, argparse's own
rejections included; a closed pipe (``... chips | head -1``) ends quietly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

from . import api, catalog
from .engine import factors

SHOWN = [
    ("n_chips", "chips", "{:d}"),
    ("bound", "bound", "{}"),
    ("ttft_s", "TTFT ms", "{:.1f}"),
    ("tpot_s", "TPOT ms", "{:.2f}"),
    ("tokens_per_s_per_user", "tok/s/user", "{:,.0f}"),
    ("tokens_per_s", "tok/s total", "{:,.0f}"),
    ("tokens_per_s_per_chip", "tok/s/chip", "{:,.0f}"),
    ("usd_per_million_tokens", "$/M tok", "{:.3f}"),
    ("joules_per_token", "J/tok", "{:.3g}"),
]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", "-m", required=True, help="model id, e.g. llama-3.1-70b")
    p.add_argument("--batch", "-b", type=int, default=1, help="concurrent sequences (default 1)")
    p.add_argument(
        "--input-tokens", "-i", type=int, default=1024, help="prompt length (default 1024)"
    )
    p.add_argument(
        "--output-tokens", "-o", type=int, default=256, help="generated tokens (default 256)"
    )
    p.add_argument(
        "--precision",
        "-p",
        default=None,
        help="weight format: bf16, fp8, nvfp4, ... (default bf16)",
    )
    p.add_argument(
        "--kv-precision",
        default=None,
        help="KV-cache format (default bf16 for bf16 weights, else fp8)",
    )
    p.add_argument(
        "--n-chips", "-n", type=int, default=None, help="chips to use (default: fewest that fit)"
    )
    p.add_argument(
        "--scenario",
        choices=catalog.SCENARIOS,
        default="base",
        help="read estimated numbers at their base, optimistic or pessimistic bound",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--ranges",
        action="store_true",
        help="add low-high ranges from the estimated inputs (the JSON gets a 'ranges' field)",
    )
    p.add_argument(
        "--batch-max", action="store_true", help="serve as many sequences as fit (ignores --batch)"
    )
    p.add_argument(
        "--tp", type=int, default=None, help="pin the tensor-parallel width (default: searched)"
    )
    p.add_argument(
        "--pp", type=int, default=None, help="pin the pipeline stages (default: searched)"
    )
    p.add_argument(
        "--replicas",
        type=int,
        default=None,
        help="pin the number of model copies (default: searched)",
    )
    p.add_argument(
        "--objective",
        choices=("throughput", "latency"),
        default="throughput",
        help="what the deployment search maximises: tokens/s per chip (default) or per user",
    )
    p.add_argument(
        "--min-tokens-per-s-per-user",
        type=float,
        default=None,
        help="per-user speed the deployment must reach (tokens/s)",
    )
    p.add_argument(
        "--max-ttft-s",
        type=float,
        default=None,
        help="time to first token the deployment must meet (s): a lone request's, or with "
        "--ttft-quantile that share of requests arriving at random",
    )
    p.add_argument(
        "--ttft-quantile",
        type=float,
        default=None,
        help="share of randomly arriving requests that must meet --max-ttft-s (e.g. 0.99, as "
        "MLPerf's server scenario); the system is loaded only as far as its prefill queue allows",
    )
    p.add_argument(
        "--mtp-tokens",
        type=int,
        default=0,
        help="speculative / multi-token-prediction draft tokens",
    )
    p.add_argument(
        "--engine",
        default=None,
        help="serving engine: tensorrt-llm, vllm, sglang, atom, ... (default: the chip's usual one, "
        "TensorRT-LLM on NVIDIA, vLLM on AMD and TPUs)",
    )
    p.add_argument("--disaggregated", action="store_true", help="prefill on its own pool of chips")
    p.add_argument(
        "--software-age-months",
        type=float,
        default=None,
        help="read the engine as young software, this many months after the model's architecture "
        "first shipped (default: mature software)",
    )
    p.add_argument(
        "--output-tokens-cv",
        type=float,
        default=0.0,
        help="how much answer lengths vary (standard deviation / mean; default 0: all one length); "
        "long answers make a decode step read more KV cache",
    )


def _row(e: api.Estimate) -> list[str]:
    if not e.fits:
        return [str(e.n_chips), "does not fit"] + ["-"] * (len(SHOWN) - 2)
    out = []
    for key, _, fmt in SHOWN:
        v = getattr(e, key)
        out.append(fmt.format(v * 1e3 if key in ("ttft_s", "tpot_s") else v))
    return out


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _kwargs(a: argparse.Namespace) -> dict:
    return dict(
        n_chips=a.n_chips,
        batch=None if a.batch_max else a.batch,
        input_tokens=a.input_tokens,
        output_tokens=a.output_tokens,
        precision=a.precision,
        kv_precision=a.kv_precision,
        scenario=a.scenario,
        ranges=a.ranges,
        tp=a.tp,
        pp=a.pp,
        replicas=a.replicas,
        objective=a.objective,
        min_tokens_per_s_per_user=a.min_tokens_per_s_per_user,
        max_ttft_s=a.max_ttft_s,
        ttft_quantile=a.ttft_quantile,
        mtp_tokens=a.mtp_tokens,
        disaggregated=a.disaggregated,
        output_tokens_cv=a.output_tokens_cv,
        engine=a.engine,
        software_age_months=a.software_age_months,
    )


def cmd_estimate(a: argparse.Namespace) -> str:
    e = api.estimate(a.model, a.chip, **_kwargs(a))
    if a.json:
        return json.dumps(e.to_dict(), indent=2)
    out = f"{e}\n\n" + _table(["chip"] + [h for _, h, _ in SHOWN], [[e.chip] + _row(e)])
    if e.ranges:
        lines = []
        for key, head, fmt in SHOWN[2:]:
            lo, mid, hi = e.bounds(key)
            scale = 1e3 if key in ("ttft_s", "tpot_s") else 1.0
            lines.append(
                f"  {head:<12} {fmt.format(lo * scale)} .. {fmt.format(mid * scale)} .. {fmt.format(hi * scale)}"
            )
        out += "\n\nrange from the estimated inputs (low .. base .. high):\n" + "\n".join(lines)
    return out


def cmd_compare(a: argparse.Namespace) -> str:
    names = [c.strip() for c in a.chips.split(",") if c.strip()]
    if not names:
        raise ValueError("--chips needs at least one chip id, e.g. --chips h100-sxm,b200")
    results, skipped = [], []
    for c in names:
        try:
            results.append(api.estimate(a.model, c, **_kwargs(a)))
        except ValueError as exc:
            if isinstance(exc, api.UnknownNameError):
                raise
            skipped.append(str(exc))
    if not results:
        raise ValueError("; ".join(skipped))
    if a.json:
        return json.dumps([e.to_dict() for e in results], indent=2)
    title = (
        f"{results[0].model}: batch {a.batch}, {a.input_tokens} in + {a.output_tokens} out tokens, "
        f"scenario {a.scenario}"
    )
    table = _table(
        ["chip", "format", "engine"] + [h for _, h, _ in SHOWN],
        [[e.chip, e.precision, e.engine] + _row(e) for e in results],
    )
    notes = "".join(f"\nskipped: {s}" for s in skipped)
    return title + "\n\n" + table + ("\n" + notes if notes else "")


def cmd_list(kind: str, as_json: bool) -> str:
    if kind == "chips":
        df = catalog.chips(with_sources=False)[
            ["id", "name", "vendor", "category", "release_status"]
        ]
    elif kind == "engines":
        df = catalog.engines()[["id", "name", "runs_on", "default_for"]].fillna("")
        df["efficiency"] = [factors.engine_efficiency(e) for e in df["id"]]
    else:
        df = catalog.models()[
            ["id", "name", "params_total_b", "params_active_b", "attention", "max_context"]
        ].round(2)
    if as_json:
        return df.to_json(orient="records", indent=2)
    return df.to_string(index=False)


class UsageError(ValueError):
    """A command line argparse rejects (unknown option, missing or malformed value)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose rejections raise :class:`UsageError` (printed as one ``error:``
    line by :func:`main`) instead of printing a usage block and exiting."""

    def error(self, message: str):  # noqa: D401  (argparse's hook)
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m inference_wars",
        description="Estimate inference latency, throughput, cost and energy on GPUs and ASICs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("estimate", help="one model on one chip")
    _common(p)
    p.add_argument("--chip", "-c", required=True, help="chip id, e.g. h100-sxm")
    p = sub.add_parser("compare", help="one model on several chips, side by side")
    _common(p)
    p.add_argument(
        "--chips", required=True, help="comma-separated chip ids, e.g. h100-sxm,b200,groq-lpu"
    )
    for kind in ("chips", "models", "engines"):
        p = sub.add_parser(kind, help=f"list the {kind} in the catalog")
        p.add_argument("--json", action="store_true")
    p = sub.add_parser("calibrate", help="re-fit the engine's factors to data/measured/*.csv")
    p.add_argument(
        "--check",
        action="store_true",
        help="only verify that the shipped calibration.csv and held-out predictions are reproduced",
    )
    p.add_argument(
        "--output",
        default=None,
        help="write the fit to this CSV file (held-out predictions go beside it as *_held_out.csv)",
    )
    p.add_argument(
        "--update-shipped",
        action="store_true",
        help="overwrite the package's own data/calibration.csv and data/measured_predictions.csv",
    )
    p.add_argument("--date", default=None, help="fit date to record, YYYY-MM-DD (default: today)")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="processes for the leave-one-source-out refits (default 1; the result is the same)",
    )
    return parser


PACKAGE_DIR = Path(__file__).resolve().parent


def check_date(text: str) -> str:
    """A calendar date written ``YYYY-MM-DD`` (``2025-02-30`` and ``20250101`` are refused)."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--date must be a date as YYYY-MM-DD, got {text!r}") from None
    return text


def check_output_path(text: str) -> Path:
    """Where ``calibrate --output`` may write: a ``.csv`` file (new or a file of the user's) in an
    existing, writable folder outside the package, whose ``*_held_out.csv`` sibling is writable
    too. Checked before the fit runs, so a bad path costs nothing and writes nothing."""
    from .evidence import calibration

    path = Path(text)
    if not text.strip() or text.endswith(("/", os.sep)) or path.suffix != ".csv" or path.is_dir():
        raise ValueError(f"--output must be a path to a .csv file, got {text!r}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--output: folder {str(folder)!r} does not exist")
    resolved = path.resolve()
    if resolved == PACKAGE_DIR or PACKAGE_DIR in resolved.parents:
        raise ValueError(
            "--output points into the package's own folder; use --update-shipped to replace "
            "the shipped calibration"
        )
    for target in (path, calibration.loso_path_for(path)):
        if target.exists() and (not target.is_file() or not os.access(target, os.W_OK)):
            raise ValueError(f"--output: cannot write {str(target)!r} (not a writable file)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"--output: folder {str(folder)!r} is not writable")
    return path


def cmd_calibrate(a: argparse.Namespace) -> tuple[str, int]:
    from .evidence import calibration

    if a.check:
        problems = calibration.check() + calibration.check_held_out()
        if problems:
            return "the shipped calibration is not reproduced:\n" + "\n".join(problems), 1
        return "calibration.csv and measured_predictions.csv are reproduced by a fresh fit", 0
    if a.date is not None:
        check_date(a.date)
    if a.update_shipped == (a.output is not None):
        raise ValueError(
            "say where the fit goes: --output PATH (a new CSV file) or --update-shipped"
        )
    if a.update_shipped:
        path = calibration.PATH
    else:
        path = check_output_path(a.output)
    if a.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {a.jobs}")
    rows, held = calibration.run(fit_date=a.date, jobs=a.jobs)
    try:
        calibration.write(rows, path)
        calibration.write(held, calibration.loso_path_for(path), calibration.LOSO_COLUMNS)
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
    lines = [f"wrote {path} and {calibration.loso_path_for(path)}"]
    for r in rows:
        lines.append(
            f"  {r['scope']} {r['key']}: {r['value']} (leave-one-source-out span {r['low']}-{r['high']}; "
            f"default {r['default']}), n = {r['n_points']}"
        )
    return "\n".join(lines), 0


def _run(argv: list[str] | None) -> tuple[str, int]:
    a = build_parser().parse_args(argv)
    if a.command == "estimate":
        return cmd_estimate(a), 0
    if a.command == "compare":
        return cmd_compare(a), 0
    if a.command == "calibrate":
        return cmd_calibrate(a)
    return cmd_list(a.command, a.json), 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input prints one ``error:`` line to stderr and returns 2."""
    try:
        out, rc = _run(argv)
    except SystemExit as exc:  # --help / --version printed what was asked
        return int(exc.code or 0)
    except ValueError as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message held
        print(f"error: {message}", file=sys.stderr)
        return 2
    try:
        print(out)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader closed the pipe (`... | head -1`): stop quietly, and keep the interpreter's
        # final flush from raising again on the closed descriptor
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return rc
    return rc
