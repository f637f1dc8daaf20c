"""Explore: profiles of dataset versions, quality warnings, and shift between versions.

A profile is computed by DuckDB over a version's Parquet file (never the whole
table in pandas), carries warnings with evidence and recipe-step suggestions,
and is stored as artifacts of the version (JSON and a self-contained HTML
report), so profiling the same version again reuses it::

    profile = workspace.datasets.profile("churn")
    for warning in profile.warnings:
        print(warning.kind, warning.columns, warning.suggestion)

The shift measures (PSI, Kolmogorov-Smirnov, Jensen-Shannon) are the one
implementation that ``data compare`` and monitoring share.
"""

from modelyard.profiling._compare import Comparison, compare_profiles
from modelyard.profiling._profile import Profile
from modelyard.profiling._shift import (
    ShiftMeasures,
    category_shift,
    jensen_shannon,
    ks_statistic,
    numeric_shift,
    psi,
)
from modelyard.profiling._store import profile_version
from modelyard.profiling._warnings import ProfileWarning

__all__ = [
    "Comparison",
    "Profile",
    "ProfileWarning",
    "ShiftMeasures",
    "category_shift",
    "compare_profiles",
    "jensen_shannon",
    "ks_statistic",
    "numeric_shift",
    "profile_version",
    "psi",
]
