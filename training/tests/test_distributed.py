"""The torchrun/DDP path on CPU: two processes with the gloo backend train the first stages together."""

import json
import os
import socket
import subprocess
import sys

import pytest
import torch.distributed

from conftest import REPO_ROOT, TRAINING_DIR

MINI = os.path.join(REPO_ROOT, "fixtures", "dataset-mini")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed not built")
def test_two_ranks_train_teacher_and_distill(tmp_path):
    run_dir = str(tmp_path / "run")
    port = str(free_port())
    data = [os.path.join(MINI, d) for d in ("optic-mini", "hippo-mini", "nuclei-mini")]
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank),
                   PYTHONPATH=TRAINING_DIR, OMP_NUM_THREADS="1")
        common = ["--datasets", *data, "--out", run_dir, "--config", "tiny", "--device", "cpu",
                  "--set", "train.teacher.epochs=2", "--set", "train.distill.epochs=2"]
        # one process per rank runs both stages, as `torchrun ... -m daft_train run` would
        script = (f"import sys; from daft_train.cli import main; "
                  f"sys.exit(main({['teacher'] + common!r}) or main({['distill'] + common!r}))")
        procs.append(subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    for rank, (p, out) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"rank {rank}:\n{out[-2000:]}"
    for stage in ("teacher", "distill"):
        with open(os.path.join(run_dir, "stages", stage, "done.json")) as f:
            assert json.load(f)["epochs_run"] == 2
    # only rank 0 logs progress; both ranks ran every step (one shared plan, one batch per rank per step)
    assert "[teacher] epoch 2/2 done" in outputs[0] and "[teacher] epoch" not in outputs[1]
