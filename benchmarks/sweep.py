"""Configuration evaluations per second for a sweep of >= 1,000,000 combinations (one core).

    python benchmarks/sweep.py
"""

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import inference_wars as iw  # noqa: E402

chips = ["h100-sxm", "h200", "b200", "gb200-nvl72", "vera-rubin-nvl72", "mi355x", "tpu-ironwood", "matx-one"]
models = ["llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b", "deepseek-r1", "gpt-oss-120b",
          "qwen3-235b-a22b"]
batch = list(range(1, 257, 4)) + [384, 512, 768, 1024]   # 68 values
inputs = [128, 256, 512, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 65536]
outputs = [64, 128, 256, 512, 1024, 2048, 4096, 8192]
precision = ["bf16", "fp8", "nvfp4"]

iw.sweep(models[:1], chips[:1])  # warm the catalog cache
best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    df = iw.sweep(models, chips, batch=batch, input_tokens=inputs, output_tokens=outputs, precision=precision)
    best = min(best, time.perf_counter() - t0)
n = len(df) + df.attrs["unfit"]
assert n >= 1_000_000, n
print(f"{n:,} configurations (skipped combos: {len(df.attrs['skipped'])}) in {best:.3f} s "
      f"-> {n / best:,.0f} configurations/s")
