"""AutoML: spot-check algorithms, tune hyperparameters, and ``auto`` (both, then a
training job and registration).

Every search cross-validates the training and validation rows only (the test split
stays for the final training job's evaluation) and runs its folds and trials on
the workspace's Executor.
"""

from modelyard.automl._auto import AutoResult, auto
from modelyard.automl._fold import FoldScore
from modelyard.automl._leaderboard import Entry, Leaderboard
from modelyard.automl._spotcheck import spotcheck
from modelyard.automl._study import SAMPLERS
from modelyard.automl._tune import TrialResult, TuneResult, resume, tune

__all__ = [
    "SAMPLERS",
    "AutoResult",
    "Entry",
    "FoldScore",
    "Leaderboard",
    "TrialResult",
    "TuneResult",
    "auto",
    "resume",
    "spotcheck",
    "tune",
]
