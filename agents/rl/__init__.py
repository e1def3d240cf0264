"""Schedules as policies and how they are learned or searched.

:mod:`.policies` (the paper's schedule, pruning only, random; running an episode),
:mod:`.learners` (the SB3 algorithms that learn: PPO, A2C), :mod:`.training` (a run of
any learner), :mod:`.sb3_policy` (the trained policy; :mod:`.ppo` keeps the names of
when PPO was the only learner), :mod:`.callbacks` (its metrics,
evaluation and best model), :mod:`.run_dir` (a run's lock, configuration, checkpoints and
weights-only model loading),
:mod:`.config` (the training configuration, read from YAML), :mod:`.warmstart`
(behaviour cloning of a fixed schedule before PPO), :mod:`.batched_vec` (SB3's VecEnv
over the batched environment), :mod:`.spaces` (a policy's spaces stored with its run),
:mod:`.policy_dir` (a policy's directory checked whole before use) and :mod:`.replay`
(replay a saved schedule). The searches live in :mod:`agents.search`.

Uses :mod:`tnf_env` and :mod:`agents.common`; the experiments and the CLI build on it.
"""
