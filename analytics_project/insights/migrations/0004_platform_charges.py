"""Count the charges behind the platform's revenue.

A generation projected before the count existed gets it from the event store: the payments its
read-model projector has applied, from the generation's start time on.
"""

from django.db import migrations, models

READ_MODELS = "read_models"


def count_applied_charges(apps, schema_editor):
    PlatformStats = apps.get_model("insights", "PlatformStats")
    Checkpoint = apps.get_model("insights", "Checkpoint")
    Generation = apps.get_model("insights", "Generation")
    StoredEvent = apps.get_model("insights", "StoredEvent")
    for row in PlatformStats.objects.all():
        checkpoint = Checkpoint.objects.filter(
            generation_id=row.generation, projector=READ_MODELS
        ).first()
        generation = Generation.objects.filter(pk=row.generation).first()
        if checkpoint is None or generation is None:
            continue
        payments = StoredEvent.objects.filter(
            type="payment.processed", position__lte=checkpoint.position
        )
        if generation.from_time is not None:
            payments = payments.filter(occurred_at__gte=generation.from_time)
        row.charges = payments.count()
        row.save(update_fields=["charges"])


class Migration(migrations.Migration):
    dependencies = [("insights", "0003_stats_updated_in_place")]

    operations = [
        migrations.AddField(
            model_name="platformstats",
            name="charges",
            field=models.BigIntegerField(default=0, help_text="payments that made the revenue"),
        ),
        migrations.RunPython(count_applied_charges, migrations.RunPython.noop),
    ]
