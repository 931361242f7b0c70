from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Participants and users"

    def ready(self):
        from django.contrib.auth import user_logged_in
        from django.contrib.auth.models import update_last_login

        # accounts.logon.complete_logon stamps last_login with last_access_at in one UPDATE.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
