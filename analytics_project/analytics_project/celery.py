from insights.projector import ProjectorStep

from common.env import ENV
from common.events.batch import consume_events_in_batches
from common.workers import create_app

app = create_app("analytics")
# Bus events come in batches: many appended per transaction by one thread per worker, and
# projected by another as soon as each batch commits.
consume_events_in_batches(
    app,
    handler="insights.events.handle_events",
    size=ENV.int("ANALYTICS_EVENTS_BATCH", default=1000),
    consumers=ENV.int("ANALYTICS_EVENTS_CONSUMERS", default=2),
)
app.steps["worker"].add(ProjectorStep)
