"""Exponential moving average of a model's weights (the "EMA model" of many SAM/ViT training recipes).

Short, noisy training — the CPU interim runs see ~1,000 steps per stage at a constant learning rate, and the
validation DSC of consecutive epochs differs by 0.01-0.02 — ends wherever the last step left the weights. The
average of the last few hundred steps sits nearer the middle of that noise. The trainer validates, keeps and
ships the averaged weights when ``StageConfig.ema_decay`` > 0; training itself still steps the raw weights.
Measured on the CPU interim (README, run 5): no clear gain in DAFT or general fine-tuning, so the presets keep it
off (0).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


class WeightAverage:
    """EMA over every floating-point entry of ``model.state_dict()`` (parameters and norm statistics alike).

    The decay warms up as min(decay, (1 + n) / (10 + n)) after n updates, so the first steps of a stage do not
    drag the average towards the starting checkpoint for thousands of steps."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        state = model.state_dict()
        self.shadow = {k: v.detach().clone() for k, v in state.items() if v.dtype.is_floating_point}
        # the model's own tensors (state_dict shares their storage): optimizer steps, norm statistics and
        # load_state_dict all write them in place, so update() needs no state_dict() per step. Build the average
        # after model.to(device), as the trainer does.
        self._live = [(self.shadow[k], state[k]) for k in self.shadow]

    def current_decay(self) -> float:
        return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        weight = 1.0 - self.current_decay()
        for average, live in self._live:  # a plain loop: torch 1.13 (Debian's) has no _foreach_lerp_
            average.lerp_(live, weight)

    @contextmanager
    def applied(self, model: torch.nn.Module) -> Iterator[None]:
        """The averaged weights inside the block, the trained ones restored after it (even on error)."""
        backup = {k: v.detach().clone() for k, v in model.state_dict().items() if k in self.shadow}
        model.load_state_dict(self.shadow, strict=False)
        try:
            yield
        finally:
            model.load_state_dict(backup, strict=False)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict) -> None:
        if set(state["shadow"]) != set(self.shadow):
            raise ValueError("the checkpoint's weight average belongs to another model")
        self.decay = float(state["decay"])
        self.updates = int(state["updates"])
        for k, v in state["shadow"].items():
            self.shadow[k].copy_(v)
