"""The reward: hardware saved this step, minus a penalty below the accuracy floor.

With ``cost`` the weighted mix of area and energy relative to the original
network (1.0 at reset), a step earns ``cost_before - cost_after`` minus
``penalty_weight x max(0, floor - accuracy)``. Rewards telescope, so an
episode that ends at or above the floor returns ``1 - final cost`` minus any
penalties on the way: the fraction of hardware saved. An episode that ends
below the floor gives its savings back at the last step, so a schedule that
breaks the accuracy floor never looks better than doing nothing.
"""

from __future__ import annotations


def step_reward(
    cost_before: float,
    cost_after: float,
    accuracy: float,
    floor: float,
    penalty_weight: float,
) -> float:
    """Reward of one step: cost decrease minus the accuracy-floor penalty."""
    return (cost_before - cost_after) - penalty_weight * max(0.0, floor - accuracy)


def final_adjustment(
    initial_cost: float, final_cost: float, accuracy: float, floor: float
) -> float:
    """Added to the last step's reward: gives back the savings of an episode below the floor."""
    if accuracy >= floor:
        return 0.0
    return -max(0.0, initial_cost - final_cost)
