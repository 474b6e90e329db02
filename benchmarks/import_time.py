"""Time of a cold `import inference_wars` in a fresh interpreter (best of 5)."""

import subprocess
import sys

times = []
for _ in range(5):
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; t=time.perf_counter(); import inference_wars; "
            "print(time.perf_counter()-t)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    times.append(float(out.stdout))
print(f"import inference_wars: best {min(times):.3f} s, median {sorted(times)[2]:.3f} s")
