"""Median and 90th-percentile absolute percentage error of the model over the measured table
(``inference_wars/data/measured.csv``), with default and with calibrated efficiency factors.

    python benchmarks/accuracy.py
"""

import inference_wars as iw  # noqa: F401  (loads the package the same way the book does)
from inference_wars import validation


def main() -> None:
    for label, calibrated in (("default assumptions", False), ("calibrated factors", True)):
        df = validation.predict(calibrated=calibrated)
        for subset, independent in (("all rows", False), ("rows not used to set catalog numbers", True)):
            s = validation.error_summary(df, independent_only=independent)
            print(f"{label:20s} {subset:38s} n={int(s['n']):3d}  median APE {s['median_ape_pct']:5.1f}%  "
                  f"p90 APE {s['p90_ape_pct']:5.1f}%")


if __name__ == "__main__":
    main()
