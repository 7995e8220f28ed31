from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        "analytics",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=["insights"],
        metrics_state=("insights.metrics.projections",),
    )
)
