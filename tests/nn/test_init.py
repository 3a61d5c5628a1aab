"""LeCun-normal initialisation: the distribution new units and new models start from."""

from __future__ import annotations

import math

import pytest
import torch

from dynas_service.nn.layers import lecun_normal


def _draw(n: int, fan_in: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    return lecun_normal((n,), fan_in, torch.Generator().manual_seed(seed), scale)


def test_lecun_normal_has_std_sqrt_one_over_fan_in_truncated_at_two_underlying_stds() -> None:
    fan_in = 50
    x = _draw(400_000, fan_in)
    target = math.sqrt(1.0 / fan_in)
    assert float(x.std()) == pytest.approx(target, rel=0.01)
    assert abs(float(x.mean())) < 0.01 * target
    # the underlying normal has std target / 0.8796; it is cut at 2 of those
    bound = 2 * target / 0.87962566103423978
    assert float(x.abs().max()) <= bound * (1 + 1e-6)
    assert float(x.abs().max()) > 0.999 * bound  # cut there, not earlier
    # a truncated normal, not a uniform: about 37 % of the mass within half a std of 0
    within = float((x.abs() < 0.5 * bound / 2).float().mean())
    assert within == pytest.approx(0.3829 / 0.9545, abs=0.01)


def test_lecun_normal_is_seeded_and_scale_multiplies() -> None:
    torch.testing.assert_close(_draw(1000, 9, seed=3), _draw(1000, 9, seed=3), rtol=0, atol=0)
    assert not torch.equal(_draw(1000, 9, seed=3), _draw(1000, 9, seed=4))
    torch.testing.assert_close(_draw(1000, 9, scale=1e-3), 1e-3 * _draw(1000, 9))


def test_lecun_normal_rejects_an_empty_fan_in() -> None:
    with pytest.raises(ValueError, match="fan_in=0"):
        lecun_normal((3,), 0)
