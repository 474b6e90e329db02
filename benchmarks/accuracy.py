"""The engine against every measured result (``inference_wars/data/measured/*.csv``).

Prints the median and 90th-percentile absolute percentage error of the default estimate with
each source family left out of the fit in turn (leave-one-source-out, recomputed here from
scratch), next to the in-sample error and the error of the unfitted assumption defaults, then
the held-out error by regime, by hardware family, by serving engine and by source family, the forward test
(``data/forward/``: results collected after the fit was frozen, never fitted), and last how far one
system's published result moves when it is measured again months later (software alone:
``validation.same_system_drift``), the spread no model told only the hardware can follow.
Targets (issue 11):
held-out median <= 15 %, 90th percentile <= 35 %.

    python benchmarks/accuracy.py            # refits every fold (about a minute)
    python benchmarks/accuracy.py --shipped  # the shipped held-out predictions, no refit
"""

import sys

import numpy as np

import inference_wars as iw  # noqa: F401  (loads the package the same way the book does)
from inference_wars import calibration, validation

TARGET_MEDIAN, TARGET_P90 = 15.0, 35.0


def main(shipped: bool = False) -> None:
    if shipped:
        pred = validation.predict_held_out()["predicted"].to_numpy()
    else:
        pred, _ = calibration.leave_one_source_out()
    held = validation.measured()
    held["predicted"] = pred
    held["ape"] = np.abs(pred - held["value"]) / held["value"]
    held["log_ratio"] = np.log(pred / held["value"])
    rows = [
        ("held out (leave-one-source-out)", held),
        ("in sample (shipped fit)", validation.predict()),
        ("assumption defaults, no fit", validation.predict(use_fitted=False)),
    ]
    n_fam = held["source_family"].nunique()
    print(f"{len(held)} measured results from {n_fam} source families")
    for label, df in rows:
        s = validation.error_summary(df)
        print(
            f"{label:34s} median APE {s['median_ape_pct']:5.1f}%  p90 APE {s['p90_ape_pct']:5.1f}%"
        )
    s = validation.error_summary(held)
    ok = s["median_ape_pct"] <= TARGET_MEDIAN and s["p90_ape_pct"] <= TARGET_P90
    print(
        f"target median <= {TARGET_MEDIAN:.0f}%, p90 <= {TARGET_P90:.0f}%: {'met' if ok else 'NOT met'}"
    )
    shipped = validation.predict_held_out()
    drift = np.nanmax(np.abs(shipped["predicted"].to_numpy() / pred - 1))
    print(f"shipped held-out predictions match this run within {100 * drift:.4f}%")
    for by in ("regime", "family", "engine", "source_family"):
        print()
        print(validation.error_summary(held, by).round(1).to_string())
    fwd = validation.forward_test()
    s = validation.error_summary(fwd)
    print()
    print(
        f"forward test ({len(fwd)} results no fit has seen, from "
        f"{fwd['source_family'].nunique()} source families): "
        f"median APE {s['median_ape_pct']:.1f}%  p90 APE {s['p90_ape_pct']:.1f}%"
    )
    for by in ("family", "engine"):
        print(validation.error_summary(fwd, by).round(1).to_string())
    again = validation.same_system_drift()
    change = 100 * again["change"].abs()
    print()
    print(
        f"the same system measured again ({len(again)} configurations published twice by one "
        f"source, {again['months'].min()}-{again['months'].max()} months apart): median change "
        f"{change.median():.1f}%, 90th percentile {change.quantile(0.9):.1f}%, "
        f"largest {change.max():.1f}%"
    )


if __name__ == "__main__":
    main(shipped="--shipped" in sys.argv[1:])
