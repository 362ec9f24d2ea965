"""The machine a benchmark ran on, for bench/RESULTS.md."""

import os
import platform
from pathlib import Path


def cpu() -> str:
    """Cores and processor model, e.g. ``2 cores (Intel(R) Xeon(R) Processor)``."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores ({model})"
