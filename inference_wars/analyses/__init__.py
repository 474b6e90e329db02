"""The chapters' analyses, one module per topic, built on the facade (:mod:`inference_wars.api`)
and the engine: :mod:`.hierarchy` and :mod:`.agentic` (why inference, chapter 1), :mod:`.fleet`,
:mod:`.context_memory` and :mod:`.software` (GPUs and their serving engines, chapter 2),
:mod:`.frontier` (the throughput-interactivity frontier and cost ratios, chapter 3),
:mod:`.hardwired` (Taalas, chapter 4), :mod:`.systolic` and :mod:`.challenger` (MatX, chapter
5), :mod:`.landscape` (the ASICs, chapter 6), :mod:`.claims` (reading a tokens/s claim, chapter
7 and the claims ledger), :mod:`.regime` and :mod:`.market` (choosing, and the market's prices,
chapter 8), :mod:`.uncertainty` (ranges by Monte Carlo)."""
