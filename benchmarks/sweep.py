"""Configuration evaluations per second on one core, for pinned deployments and with the
deployment search on.

    python benchmarks/sweep.py

* **pinned**: every configuration names its split (``tp``, ``pp``, ``replicas``), so each is one
  evaluation (two for a mixture of experts with the attention mode left free: TP or DP
  attention). Target: >= 1,000,000 configurations/s.
* **search**: ``n_chips`` given, split left free. Each configuration considers 14 candidate
  deployments (7 tensor-parallel widths x TP or DP attention; dataflow chips: 14 replica counts);
  the search never tries them all one by one: the fewest pipeline stages that hold each width
  are computed in closed form, impossible slots are masked, the slots no configuration of a
  block can use (DP attention for a dense model, a width wider than every system or scale-up
  domain in the block) are dropped before the evaluation, and the rest are evaluated in one
  vectorised call and reduced with one argmax. Target: >= 200,000 configurations/s.

How ``sweep`` gets there (``inference_wars.api._grid`` and ``engine.deployment.search``): the
grid stays open, one numpy axis per argument, so broadcasting computes each quantity once per
combination of the axes it depends on (weights per model and format, KV per model, batch and
context, ...); the candidates are one more, trailing axis, so what does not depend on the
candidate is computed once; the grid is evaluated in blocks of about 32,768 configurations
(one model, a run of chips and formats) whose arrays stay in the processor's cache; the chosen
candidate is gathered with one flat index.
"""

import os
import time
import timeit

os.environ.setdefault("OMP_NUM_THREADS", "1")

import inference_wars as iw  # noqa: E402

chips = [
    "h100-sxm",
    "h200",
    "b200",
    "gb200-nvl72",
    "vera-rubin-nvl72",
    "mi355x",
    "tpu-ironwood",
    "matx-one",
]
models = [
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "mixtral-8x7b",
    "deepseek-r1",
    "gpt-oss-120b",
    "qwen3-235b-a22b",
]


def rate(n_wanted: int, **kw) -> tuple[int, float]:
    iw.sweep(
        models[:1], chips[:1], **{k: v for k, v in kw.items() if k in ("tp", "pp", "replicas")}
    )  # warm
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        df = iw.sweep(models, chips, drop_unfit=False, **kw)
        best = min(best, time.perf_counter() - t0)
    n = len(df)
    assert n >= n_wanted, n
    return n, best


batch = list(range(1, 257, 4)) + [384, 512, 768, 1024]  # 68 values
inputs = [
    128,
    256,
    512,
    1024,
    1536,
    2048,
    3072,
    4096,
    6144,
    8192,
    12288,
    16384,
    24576,
    32768,
    65536,
]
outputs = [64, 128, 256, 512, 1024, 2048, 4096, 8192]
n, t = rate(
    1_000_000,
    batch=batch,
    input_tokens=inputs,
    output_tokens=outputs,
    precision=["bf16", "fp8", "nvfp4"],
    n_chips=8,
    tp=8,
    pp=1,
    replicas=1,
)
print(f"pinned:  {n:,} configurations in {t:.3f} s -> {n / t:,.0f} configurations/s")
n, t = rate(
    200_000,
    batch=batch[::4],
    input_tokens=inputs[::2],
    output_tokens=outputs[::2],
    precision=["bf16", "fp8", "nvfp4"],
    n_chips=[8, 16, 72],
)
print(
    f"search:  {n:,} configurations in {t:.3f} s -> {n / t:,.0f} configurations/s (14 candidate deployments each)"
)


# one estimate, warm: like timeit, the best of several rounds (a shared machine only ever adds time)
def one_estimate():
    iw.estimate("llama-3.1-70b", "h100-sxm", n_chips=8, batch=64, precision="fp8")


rounds = sorted(t / 200 for t in timeit.repeat(one_estimate, number=200, repeat=9))
print(
    f"estimate (warm, with search): {rounds[0] * 1e6:,.0f} us per call "
    f"(best of 9 rounds of 200; median round {rounds[4] * 1e6:,.0f} us)"
)
