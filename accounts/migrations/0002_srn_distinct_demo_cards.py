"""Before an SRN may belong to one person only (0003): give the demo cards distinct SRNs.

Demo data used to cut "0101" + the User ID's hex to 16 characters, so every account of a demo
firm shared one SRN and a card logged on as the firm's first account (issue 12, finding 3).
Those cards get the SRN `accounts.demo_data.srn_for` now gives (the User ID in hex). Any other
SRN still held by several profiles identifies none of them, so it is cleared: those cards log on
no one until an SRN of their own is recorded.
"""

from collections import Counter

from django.db import migrations


def _old_demo_srn(user_id: str) -> str:
    return ("0101" + user_id.encode().hex().upper())[:16]


def _demo_srn(user_id: str) -> str:  # a copy of accounts.demo_data.srn_for as of this migration
    return user_id.encode("ascii").hex().upper()


def distinct_srns(apps, schema_editor):
    users = apps.get_model("accounts", "User")._base_manager  # deleted profiles too: their cards stay theirs
    taken = set(users.exclude(srn="").values_list("srn", flat=True))
    for user in users.exclude(srn="").only("user_id", "srn"):
        new = _demo_srn(user.user_id)
        if user.srn == _old_demo_srn(user.user_id) and user.srn != new and new not in taken:
            users.filter(pk=user.pk).update(srn=new)
            taken.add(new)
    holders = Counter(users.exclude(srn="").values_list("srn", flat=True))
    users.filter(srn__in=[srn for srn, n in holders.items() if n > 1]).update(srn="")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(distinct_srns, migrations.RunPython.noop)]
