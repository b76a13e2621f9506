"""The worker's own side (autograder.sandbox.worker): what it sets up before student code runs, checked without a
GPU by standing in for torch.cuda in a fresh interpreter (so that no global torch setting leaks into this one)."""

from __future__ import annotations

import subprocess
import sys

import pytest

GPU_SHARE = """
import torch
from autograder.sandbox import worker

calls = []
torch.cuda.current_device = lambda: 0
torch.cuda.get_device_properties = lambda index: type("Props", (), {"total_memory": 8 << 30})()
torch.cuda.set_per_process_memory_fraction = lambda fraction, *device: calls.append(fraction)
worker._configure("cuda", 1, {limit})
print(calls)
"""


@pytest.mark.parametrize(
    "limit_mb, fractions",
    [
        pytest.param(2048, "[0.25]", id="a quarter of an 8 GiB GPU"),
        pytest.param(16384, "[1.0]", id="never more than the GPU"),
        pytest.param(None, "[]", id="no limit asked"),
    ],
)
def test_a_cuda_worker_bounds_its_share_of_gpu_memory_before_student_code(limit_mb, fractions: str):
    """Workers of one batch share the GPU: each one's caching allocator is held to limits.memory_mb of it."""
    done = subprocess.run([sys.executable, "-c", GPU_SHARE.replace("{limit}", repr(limit_mb))], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == fractions
