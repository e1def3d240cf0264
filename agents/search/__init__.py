"""Searches over the schedule and the learner: Optuna over a fixed schedule's constants
(:mod:`.blackbox`) and Ray Tune over training configs (:mod:`.tune`, settings in :mod:`.config`)."""
