"""Read-only views of DMS requests and processed eServices for HKEX operators.
Changes go through the services (maker-checker in DMS, DA3/DA4 in the back-office)."""

from django.contrib import admin

from .models import ChangeRequest, EServiceRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        # The admin site already requires a staff member's verified 2FA session.
        return request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "participant", "kind", "subject_user_id", "maker", "checker", "status", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("subject_user_id",)
    exclude = ("secret_hash",)
    list_select_related = ("participant",)


@admin.register(EServiceRecord)
class EServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ("reference", "service", "action", "participant", "subject_user_id", "fee_hkd", "processed_at")
    list_filter = ("service", "action")
    list_select_related = ("participant",)
