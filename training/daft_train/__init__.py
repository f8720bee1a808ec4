"""DAFT training package: teacher → distillation → general fine-tuning → DAFT per subset → selection → ONNX export."""

import os

# Before torch loads OpenMP: threads that wait passively instead of spinning. On a shared small CPU, spinning
# OpenMP barriers make 2-thread training up to 10x slower whenever another process holds a core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
