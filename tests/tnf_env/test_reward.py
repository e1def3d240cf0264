import pytest

from tnf_env.reward import final_adjustment, step_reward


def test_step_reward_is_the_cost_decrease():
    assert step_reward(1.0, 0.8, accuracy=0.5, floor=0.9) == pytest.approx(0.2)
    assert step_reward(1.0, 0.8, 0.85, 0.9, step_penalty_weight=10) == pytest.approx(-0.3)


def test_returns_telescope_to_fraction_saved_or_penalty():
    costs = [1.0, 0.9, 0.7, 0.6]
    steps = [step_reward(a, b, 0.95, 0.9) for a, b in zip(costs, costs[1:], strict=False)]
    assert sum(steps) + final_adjustment(1.0, 0.6, 0.95, 0.9, 10) == pytest.approx(0.4)
    # below the floor at the end: savings given back and 10 x 2 points paid
    assert sum(steps) + final_adjustment(1.0, 0.6, 0.88, 0.9, 10) == pytest.approx(-0.2)
    # a costlier network below the floor gets no bonus for it
    assert final_adjustment(1.0, 1.5, 0.88, 0.9, 0) == 0.0


def test_without_give_back_only_the_shortfall_is_paid():
    # 2 points below the floor, 0.4 saved: the saving stays, 10 x 0.02 is paid
    assert final_adjustment(1.0, 0.6, 0.88, 0.9, 10, give_back=False) == pytest.approx(-0.2)
    assert final_adjustment(1.0, 0.6, 0.88, 0.9, 10, give_back=True) == pytest.approx(-0.6)
    assert final_adjustment(1.0, 0.6, 0.95, 0.9, 10, give_back=False) == 0.0
