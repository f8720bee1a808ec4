"""Validation DSC and loss per epoch of the DAFT stage with and without intensity augmentation, both from the
shipped (run 10) expert: CT and Mammography. Usage: python3 plot_arms.py  → arms.png"""
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARMS = [("CT", "ct", "ct-control", 0.6942), ("Mammography", "mammo", "mammo-control", 0.8411)]


def epochs(folder):
    rows = [json.loads(line) for line in open(os.path.join(HERE, folder, "metrics.jsonl"))]
    return [r for r in rows if r["type"] == "epoch"]


fig, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True)
for col, (name, aug, control, shipped) in enumerate(ARMS):
    for folder, label, colour in [(aug, "intensity augmentation", "tab:blue"), (control, "without", "tab:grey")]:
        e = epochs(folder)
        x = [r["epoch"] for r in e]
        axes[0, col].plot(x, [r["val_dsc"] for r in e], "o-", color=colour, label=label)
        axes[1, col].plot(x, [r["val_loss"] for r in e], "o-", color=colour, label=label)
    axes[0, col].axhline(shipped, color="tab:red", ls="--", lw=1, label="shipped expert (start)")
    axes[0, col].set_title(f"DAFT/{name}, from the shipped expert")
    axes[0, col].set_ylabel("validation DSC (early-stopping set)")
    axes[1, col].set_ylabel("validation loss")
    axes[1, col].set_xlabel("epoch")
    for ax in axes[:, col]:
        ax.grid(alpha=0.3)
    axes[0, col].legend(fontsize=8)
fig.tight_layout()
fig.savefig(os.path.join(HERE, "arms.png"), dpi=90)
