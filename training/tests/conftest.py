import os
import sys

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(TRAINING_DIR)
if TRAINING_DIR not in sys.path:
    sys.path.insert(0, TRAINING_DIR)

# One intra-op thread: the tiny models gain little from two, and on a shared 2-core machine OpenMP barriers
# stall badly when another process holds a core.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

torch.set_num_threads(1)
