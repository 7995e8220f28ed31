"""Mechanics shared by every Streamify service; no service's domain lives here."""
