"""WeightAverage: the EMA arithmetic, warm-up, swapping the average in and out, and its checkpoint state."""

import pytest
import torch

from daft_train.weight_average import WeightAverage


def small_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))


def test_average_follows_the_exponential_moving_average_with_warm_up():
    model = small_model()
    average = WeightAverage(model, decay=0.9)
    start = model[0].weight.detach().clone()
    expected = start.clone()
    for n in range(1, 100):
        with torch.no_grad():
            model[0].weight.add_(1.0)
        average.update()
        d = min(0.9, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * model[0].weight.detach()
        torch.testing.assert_close(average.shadow["0.weight"], expected)
    assert average.current_decay() == 0.9
    # BatchNorm statistics are averaged too; the integer step counter is not touched
    assert "1.running_mean" in average.shadow and "1.num_batches_tracked" not in average.shadow


def test_applied_swaps_the_average_in_and_restores_the_trained_weights():
    model = small_model()
    average = WeightAverage(model, decay=0.5)
    with torch.no_grad():
        model[0].weight.mul_(3.0)
    trained = model[0].weight.detach().clone()
    average.update()
    with average.applied(model):
        torch.testing.assert_close(model[0].weight, average.shadow["0.weight"])
        assert not torch.equal(model[0].weight, trained)
    torch.testing.assert_close(model[0].weight, trained)
    with pytest.raises(RuntimeError):
        with average.applied(model):
            raise RuntimeError("validation failed")
    torch.testing.assert_close(model[0].weight, trained)


def test_state_round_trip_and_mismatched_model():
    model = small_model()
    average = WeightAverage(model, decay=0.99)
    for _ in range(3):
        with torch.no_grad():
            model[0].bias.add_(0.5)
        average.update()
    restored = WeightAverage(small_model(), decay=0.99)
    restored.load_state_dict(average.state_dict())
    assert restored.updates == 3
    for k in average.shadow:
        torch.testing.assert_close(restored.shadow[k], average.shadow[k])
    with pytest.raises(ValueError, match="another model"):
        WeightAverage(torch.nn.Linear(3, 4), decay=0.99).load_state_dict(average.state_dict())
    with pytest.raises(ValueError, match="ema_decay"):
        WeightAverage(model, decay=1.0)
