"""E-mail OTP devices per person and purpose (docs/security.md, "E-mail OTP per person and
purpose"): codes are no longer bound to the logon attempt that asked; every existing device
becomes the person's sign-in device."""

from django.db import migrations, models


def fill_slots(apps, schema_editor):
    EmailOtpDevice = apps.get_model("otp", "EmailOtpDevice")
    for device in EmailOtpDevice.objects.all().only("pk", "user_id"):
        EmailOtpDevice.objects.filter(pk=device.pk).update(slot=f"{device.user_id}:sign_in", purpose="sign_in")


class Migration(migrations.Migration):
    dependencies = [
        ("otp", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="emailotpdevice",
            name="attempt",
        ),
        migrations.AddField(
            model_name="emailotpdevice",
            name="purpose",
            field=models.CharField(
                choices=[
                    ("sign_in", "logon and self-service reset"),
                    ("authorisation", "DMS Authorisation Code"),
                    ("step_up", "re-proving the factor in the person's settings"),
                ],
                default="sign_in",
                editable=False,
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="emailotpdevice",
            name="slot",
            field=models.CharField(editable=False, max_length=200, null=True),
        ),
        migrations.RunPython(fill_slots, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="emailotpdevice",
            name="slot",
            field=models.CharField(editable=False, max_length=200, unique=True),
        ),
    ]
