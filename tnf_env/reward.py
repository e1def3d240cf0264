"""The reward: hardware saved this step; the accuracy floor is settled at the end.

With ``cost`` the weighted mix of area and energy relative to the original
network (1.0 at reset), a step earns ``cost_before - cost_after``. Rewards
telescope, so an episode that ends at or above the accuracy floor returns
``1 - final cost``: the fraction of hardware saved. An episode that ends below
the floor gives its savings back at the last step and pays
``penalty_weight x (floor - accuracy)``, so breaking the floor never looks
better than doing nothing.

Accuracy dips during an episode are recoverable by retraining, so they cost
nothing by default; ``step_penalty_weight`` adds a per-step penalty
``step_penalty_weight x max(0, floor - accuracy)`` for those who want one.
"""

from __future__ import annotations


def step_reward(
    cost_before: float,
    cost_after: float,
    accuracy: float,
    floor: float,
    step_penalty_weight: float = 0.0,
) -> float:
    """Reward of one step: cost decrease, minus an optional penalty below the floor."""
    return (cost_before - cost_after) - step_penalty_weight * max(0.0, floor - accuracy)


def final_adjustment(
    initial_cost: float,
    final_cost: float,
    accuracy: float,
    floor: float,
    penalty_weight: float,
) -> float:
    """Added to the last step's reward: below the floor, savings are given back and the
    shortfall is penalised."""
    if accuracy >= floor:
        return 0.0
    return -max(0.0, initial_cost - final_cost) - penalty_weight * (floor - accuracy)
