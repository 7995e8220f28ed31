"""Projectors: fold stored events, in position order, into the read models of one generation.

The meaning of every read model is written twice, and the property test
(`tests/test_property.py`, incremental == replay) holds the two to the same answer:
- here, event by event in Python: how SQLite projects. The live projector
  (`services.projections_catch_up`) runs them on a generation that already has rows
  (`complete=False`: the rows a batch touches are loaded first); a replay runs them over the
  whole store into an empty generation (`complete=True`: every row is in memory, nothing is
  loaded);
- in `insights.sql_projection`, as SQL over ranges of the store: how PostgreSQL projects.

`ReadModels` (`read_models`) holds video stats, viewers, user stats and history, and platform
totals; `DailyMetrics` (`daily_metrics`) the per-day figures of the period reports. Each keeps
its progress in a `Checkpoint`; one projector pass moves both. `base` has the fold they share,
`rows` the rows they hold in memory and write.
"""

from insights.projections.base import events_list
from insights.projections.daily_metrics import DailyMetrics
from insights.projections.read_models import ReadModels

__all__ = ["DailyMetrics", "ReadModels", "events_list"]
