import os
import sys

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(TRAINING_DIR)
if TRAINING_DIR not in sys.path:
    sys.path.insert(0, TRAINING_DIR)

os.environ.setdefault("OMP_NUM_THREADS", "2")
