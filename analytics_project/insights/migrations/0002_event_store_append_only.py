"""Make the database itself refuse UPDATE and DELETE on the event store.

PostgreSQL gets row triggers for both (TRUNCATE, which test database flushes use, is not a
row operation). SQLite gets the UPDATE trigger only, because Django flushes SQLite test
databases with DELETE.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE FUNCTION insights_storedevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'insights_storedevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER insights_storedevent_append_only
    BEFORE UPDATE OR DELETE ON insights_storedevent
    FOR EACH ROW EXECUTE FUNCTION insights_storedevent_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS insights_storedevent_append_only ON insights_storedevent;
DROP FUNCTION IF EXISTS insights_storedevent_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER insights_storedevent_append_only BEFORE UPDATE ON insights_storedevent
BEGIN SELECT RAISE(ABORT, 'insights_storedevent is append-only (UPDATE refused)'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS insights_storedevent_append_only;"


def _run(apps, schema_editor, *, up: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP if up else POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP if up else SQLITE_DOWN, params=None)


def forwards(apps, schema_editor):
    _run(apps, schema_editor, up=True)


def backwards(apps, schema_editor):
    _run(apps, schema_editor, up=False)


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
