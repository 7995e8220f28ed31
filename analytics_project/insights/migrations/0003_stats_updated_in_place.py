"""Let the projector update the stats rows in place (PostgreSQL HOT updates).

Every batch the projector rewrites the rows of the videos, users, days and platform it touched.
An update that changes no indexed column and finds room on its page writes no index entry at
all; the two "top videos" indexes changed with every view, so they are dropped (the top lists
sort one generation's videos, and the read cache answers repeats), and the tables leave room
on each page for the next version of its rows.
"""

from django.db import migrations

TABLES = {
    "insights_videostats": 50,
    "insights_userstats": 70,
    "insights_platformstats": 10,
    "insights_dailymetric": 50,
}


def _fillfactor(apps, schema_editor, *, up: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, percent in TABLES.items():
        setting = f"SET (fillfactor = {percent})" if up else "RESET (fillfactor)"
        schema_editor.execute(f"ALTER TABLE {table} {setting}", params=None)


def forwards(apps, schema_editor):
    _fillfactor(apps, schema_editor, up=True)


def backwards(apps, schema_editor):
    _fillfactor(apps, schema_editor, up=False)


class Migration(migrations.Migration):
    dependencies = [("insights", "0002_event_store_append_only")]

    operations = [
        migrations.RemoveIndex(model_name="videostats", name="insights_video_top_views"),
        migrations.RemoveIndex(model_name="videostats", name="insights_video_top_revenue"),
        migrations.RunPython(forwards, backwards),
    ]
