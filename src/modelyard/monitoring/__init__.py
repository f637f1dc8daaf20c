"""Model monitoring: captured traffic against the model's baseline, labels that arrive late.

Start from ``ws.monitors``::

    ws.monitors.create("churn-api", drift=["psi>0.2"], quality=["roc_auc<0.75"])
    ws.monitors.run("churn-api")
    ws.monitors.ingest_labels("labels.csv", "churn-api")
    ws.monitors.history("churn-api")
"""

from modelyard.monitoring._labels import LabelIngest
from modelyard.monitoring._monitor import Monitor, MonitorRun, MonitorStore
from modelyard.monitoring._quality import VariantComparison
from modelyard.monitoring._traffic import (
    CapturedRecord,
    VariantTraffic,
    captured_sample,
    gateway_traffic,
)

__all__ = [
    "CapturedRecord",
    "LabelIngest",
    "Monitor",
    "MonitorRun",
    "MonitorStore",
    "VariantComparison",
    "VariantTraffic",
    "captured_sample",
    "gateway_traffic",
]
