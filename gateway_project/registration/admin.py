from django.contrib import admin

from registration.models import Saga, SagaStep


class SagaStepInline(admin.TabularInline):
    model = SagaStep
    extra = 0
    can_delete = False
    fields = ["name", "task", "status", "attempts", "task_id", "result", "error", "sent_at"]
    readonly_fields = fields


@admin.register(Saga)
class SagaAdmin(admin.ModelAdmin):
    list_display = ["id", "email", "status", "user_id", "error_code", "created_at", "finished_at"]
    list_filter = ["status", "error_code"]
    search_fields = ["id", "email"]
    readonly_fields = [f.name for f in Saga._meta.fields]
    inlines = [SagaStepInline]
