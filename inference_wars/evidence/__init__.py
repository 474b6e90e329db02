"""The model against measurement: :mod:`.validation` (the measured results in
``data/measured/``, predictions and error summaries) and :mod:`.calibration` (the few factors
fitted to them, and the leave-one-source-out error the appendix reports)."""
