from django.contrib import admin

from common.admin import ReadOnlyAdmin
from wallets.models import LedgerEntry, Wallet


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fk_name = "wallet"
    extra = 0
    can_delete = False
    fields = ["id", "kind", "amount", "balance_after", "idempotency_key", "created_at"]
    readonly_fields = fields
    ordering = ["-id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["user_id", "balance", "created_at", "updated_at"]
    search_fields = ["user_id"]
    readonly_fields = ["balance", "created_at", "updated_at"]
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Read-only: the ledger is append-only, corrections are new entries made by the service."""

    list_display = [
        "id",
        "wallet",
        "kind",
        "amount",
        "balance_after",
        "idempotency_key",
        "created_at",
    ]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "session_id", "wallet__user_id"]
