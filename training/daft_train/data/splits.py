"""Deterministic train/val/test assignment, identical in TypeScript.

u(s) = int(sha256(s.encode()).hexdigest()[:8], 16) / 2**32
test  if u(f"daft-test/{dataset}/{case}") < 0.2
val   elif u(f"daft-val/{seed}/{dataset}/{case}") < 0.2
train otherwise.
``dataset`` is dataset.json "name", ``case`` the image file stem (e.g. "kvasir_0001"). The test split never
depends on the seed and is never used by training or model selection.
"""

from __future__ import annotations

import hashlib

TEST_FRACTION = 0.2
VAL_FRACTION = 0.2
SPLITS = ("train", "val", "test")


def unit_hash(text: str) -> float:
    """First 32 bits of sha256(text) as a number in [0, 1)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 2**32


def split_of(dataset: str, case: str, seed: int = 0) -> str:
    if unit_hash(f"daft-test/{dataset}/{case}") < TEST_FRACTION:
        return "test"
    if unit_hash(f"daft-val/{seed}/{dataset}/{case}") < VAL_FRACTION:
        return "val"
    return "train"
