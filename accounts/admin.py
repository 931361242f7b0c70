from django.contrib import admin

from .models import AuditEvent, Participant, User


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("participant_id", "name", "clearing_house", "is_designated_bank", "max_users")
    list_filter = ("clearing_house", "is_designated_bank")
    search_fields = ("participant_id", "name")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("user_id", "participant", "role", "surname", "other_names", "status", "otp_channel", "locked_at")
    list_filter = ("role", "status", "otp_channel", "participant__clearing_house")
    search_fields = ("user_id", "surname", "other_names", "email")
    readonly_fields = (
        "password",
        "smartcard_password",
        "twofa_set_up_at",
        "otp_channel",
        "password_changed_at",
        "locked_at",
        "last_access_at",
        "last_login",
        "date_joined",
    )
    exclude = ("groups", "user_permissions")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("participant")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "actor_label", "subject_label", "participant", "source_ip")
    list_filter = ("kind",)
    search_fields = ("actor_label", "subject_label")
    list_select_related = ("participant",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
