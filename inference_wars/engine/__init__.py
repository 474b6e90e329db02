"""The modelling engine: what a chip does with a model, in closed form and vectorised over numpy.

Bottom to top: :mod:`.formats` (bits per weight, which formats a chip runs natively),
:mod:`.hardware` (a chip's numbers as arrays), :mod:`.workload` (a model's FLOPs, bytes and KV
cache), :mod:`.roofline`, :mod:`.memory` (capacity and tiered reads), :mod:`.parallel` (splits
and collectives), :mod:`.economics` (cost and energy), :mod:`.queueing` (waits under random arrivals),
:mod:`.serving` (one decode step, TTFT,
throughput for a deployment), :mod:`.factors` (modelling factors: assumptions and the fitted
values) and :mod:`.deployment` (the best split for an objective). The engine reads the catalog
below it and nothing above it; :mod:`inference_wars.api` is its facade.
"""
