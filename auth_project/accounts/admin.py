from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts import services
from accounts.models import PendingCredential, SagaUserCreation, User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users as operators see them; creating and deleting go through the services (events)."""

    form = UserEditForm
    add_form = UserCreationForm
    list_display = ["id", "email", "first_name", "last_name", "is_active", "is_staff", "created_at"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["id"]
    readonly_fields = ["created_at", "updated_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "first_name", "last_name", "password1", "password2"],
            },
        )
    ]

    def save_model(self, request, obj, form, change):
        services.user_admin_save(user=obj, created=not change)

    def delete_model(self, request, obj):
        services.user_delete(user_id=obj.id)

    def delete_queryset(self, request, queryset):
        for user_id in queryset.values_list("id", flat=True):
            services.user_delete(user_id=user_id)


@admin.register(SagaUserCreation)
class SagaUserCreationAdmin(admin.ModelAdmin):
    list_display = ["saga_id", "user_id", "email", "created_at", "compensated_at"]
    search_fields = ["saga_id", "email"]
    readonly_fields = ["saga_id", "user_id", "email", "created_at", "compensated_at"]


@admin.register(PendingCredential)
class PendingCredentialAdmin(admin.ModelAdmin):
    """Passwords handed over by registration sagas and not yet taken; the hash is never shown."""

    list_display = ["ref", "saga_id", "created_at", "expires_at"]
    search_fields = ["saga_id"]
    fields = ["ref", "saga_id", "created_at", "expires_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
