"""The reward: hardware saved this step; the accuracy floor is settled at the end.

With ``cost`` the weighted mix of area and energy relative to the original
network (1.0 at reset), a step earns ``cost_before - cost_after``. Rewards
telescope, so an episode that ends at or above the accuracy floor returns
``1 - final cost``: the fraction of hardware saved. An episode that ends below
the floor gives its savings back at the last step and pays
``penalty_weight x (floor - accuracy)``, so breaking the floor never looks
better than doing nothing.

The give-back makes the return jump by the whole saving when the final accuracy
crosses the floor, which is mostly retraining noise when a schedule ends near
it. ``give_back=False`` (the ``floor_give_back`` setting) keeps only the linear
penalty: a smoother signal for training, with ``penalty_weight`` large enough
that trading accuracy below the floor for hardware does not pay.

Accuracy dips during an episode are recoverable by retraining, so they cost
nothing by default; ``step_penalty_weight`` adds a per-step penalty
``step_penalty_weight x max(0, floor - accuracy)`` for those who want one.
"""

from __future__ import annotations


def normalized_cost(area: float, energy: float, reference, area_weight: float) -> float:
    """Weighted mix of area and energy, each relative to ``reference`` (a NetworkCost)."""
    return area_weight * area / reference.area_mm2 + (1 - area_weight) * (
        energy / reference.energy_nj
    )


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
    give_back: bool = True,
) -> float:
    """Added to the last step's reward: below the floor the shortfall is penalised and,
    with ``give_back``, the episode's savings are returned."""
    if accuracy >= floor:
        return 0.0
    returned = max(0.0, initial_cost - final_cost) if give_back else 0.0
    return -returned - penalty_weight * (floor - accuracy)
