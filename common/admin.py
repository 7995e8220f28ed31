"""Admin building blocks shared by every service."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the service's own code writes: operators read them and never edit them.

    `allow_delete` keeps deletion for rows an operator may clear (dead letters, say); ledgers
    and the event store leave it off.
    """

    allow_delete = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and super().has_delete_permission(request, obj)
