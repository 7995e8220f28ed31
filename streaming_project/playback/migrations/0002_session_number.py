from django.db import migrations, models

import playback.models


def number_existing_sessions(apps, schema_editor):
    """Sessions started before numbers existed are numbered in the order they started."""
    SessionNumber = apps.get_model("playback", "SessionNumber")
    StreamSession = apps.get_model("playback", "StreamSession")
    for session in StreamSession.objects.order_by("started_at", "id").only("id"):
        session.number = SessionNumber.objects.create().id
        session.save(update_fields=["number"])
    SessionNumber.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("playback", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="SessionNumber",
            fields=[("id", models.BigAutoField(primary_key=True, serialize=False))],
        ),
        migrations.AddField(
            model_name="streamsession",
            name="number",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(number_existing_sessions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="streamsession",
            name="number",
            field=models.BigIntegerField(
                default=playback.models.session_number_take, editable=False, unique=True
            ),
        ),
    ]
