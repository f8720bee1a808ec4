"""How many optimiser steps an epoch makes (trainer.epoch_steps)."""
from daft_train.trainer import epoch_steps


def test_one_pass_over_the_plan_with_the_last_batch_filled():
    assert epoch_steps(52, 4) == 13
    assert epoch_steps(53, 4) == 14
    assert epoch_steps(0, 4) == 1


def test_a_small_plan_is_raised_to_the_floor():
    assert epoch_steps(52, 4, min_steps=60) == 60
    assert epoch_steps(1000, 4, min_steps=60) == 250  # a large plan keeps its own length


def test_the_cap_bounds_a_large_plan_and_wins_over_the_floor():
    assert epoch_steps(1000, 4, max_steps=120) == 120
    assert epoch_steps(1000, 4, min_steps=60, max_steps=120) == 120
    assert epoch_steps(52, 4, min_steps=200, max_steps=120) == 120
