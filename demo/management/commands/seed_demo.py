"""Create the demo participants and accounts, and their overnight reports (the demo app
seeds every part, so no lower part imports a higher one: docs/architecture.md). Idempotent: running it again
creates nothing twice and leaves what people did in the demo alone."""

import os

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import audit, demo_data
from accounts.audit import Event
from accounts.models import Participant, Role, User
from terminal import overnight_reports


class Command(BaseCommand):
    help = "Create the demo participants, DAs, users and the HKEX operator (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-operator-password",
            action="store_true",
            help=f"Give {demo_data.DEMO_OPERATOR_ID} a new random password and print it (the old one stops working).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for pid, name, house, bank, code, max_users, domain, das, users in demo_data.PARTICIPANTS:
            participant, _ = Participant.objects.update_or_create(
                participant_id=pid,
                defaults={
                    "name": name,
                    "clearing_house": house,
                    "is_designated_bank": bank,
                    "customer_code": code,
                    "max_users": max_users,
                },
            )
            participant.full_clean()
            roles = [Role.DA_MAKER, Role.DA_CHECKER, Role.DA_CHECKER]
            people = [(uid, role) for uid, role in zip(das, roles)] + [(uid, Role.USER) for uid in users]
            for index, (user_id, role) in enumerate(people):
                created += self._person(participant, user_id, role, index, domain)
        created += self._operator(new_password=options.get("new_operator_password", False))
        reports = self._overnight_reports()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({created} accounts created, {reports} overnight reports available).")
        )

    def _overnight_reports(self) -> int:
        """Each demo firm's overnight reports for the last business days (existing ones are kept)."""
        participants = Participant.objects.filter(participant_id__in=[row[0] for row in demo_data.PARTICIPANTS])
        return sum(
            len(overnight_reports.generate_reports(participant=participant, business_date=day))
            for participant in participants
            for day in overnight_reports.last_business_days(demo_data.OVERNIGHT_REPORT_DAYS)
        )

    def _person(self, participant, user_id, role, index, domain) -> int:
        if User.all_objects.filter(user_id=user_id).exists():
            return 0
        user = User(
            user_id=user_id,
            participant=participant,
            role=role,
            surname=demo_data.SURNAMES[index % len(demo_data.SURNAMES)],
            other_names=("DA " if role != Role.USER else "USER ") + user_id[-2:],
            email=f"{user_id.lower()}@{domain}",
            clearing_house_options="Cash" if participant.clearing_house == "HKSCC" else "Derivatives",
            access_channel="C3T",
            srn=demo_data.srn_for(user_id),
            certificate_expiry=demo_data.CERTIFICATE_EXPIRY,
        )
        user.set_unusable_password()  # 2FA not set up: the first logon starts with "Forgot/Reset"
        user.set_smartcard_password(demo_data.DEMO_SMARTCARD_PASSWORD)
        user.full_clean(exclude=["password"])
        user.save()
        return 1

    def _operator(self, *, new_password: bool) -> int:
        """The HKEX operator, with a password made now and printed once (or chosen through the
        environment, then not printed). Its 2FA is set up at its first logon."""
        from ccass_portal import clock

        chosen = os.environ.get(demo_data.DEMO_OPERATOR_PASSWORD_ENV, "")
        password = chosen or demo_data.new_operator_password()
        existing = User.all_objects.filter(user_id=demo_data.DEMO_OPERATOR_ID).first()
        if existing is not None and not new_password:
            self.stdout.write(
                f"HKEX operator {existing.user_id} already exists; its password was printed when it was made "
                "(`manage.py seed_demo --new-operator-password` makes a new one)."
            )
            return 0
        if existing is not None:
            from accounts.reset import apply_new_password

            existing.rotate_security_stamp()  # its sessions end with the old password
            existing.save(update_fields=["security_stamp"])
            apply_new_password(existing, password)
            audit.record(Event.PASSWORD_CHANGED, subject=existing, by="seed_demo --new-operator-password")
        else:
            operator = User(
                user_id=demo_data.DEMO_OPERATOR_ID,
                surname="OPERATOR",
                other_names="HKEX DEMO",
                email="operator@hkex-demo.example",
                is_staff=True,
                is_superuser=True,
                created_after_launch=True,
                password_changed_at=clock.now(),
            )
            operator.set_password(password)
            operator.save()
        if not chosen:
            self.stdout.write(
                self.style.WARNING(
                    f"HKEX operator {demo_data.DEMO_OPERATOR_ID} (back-office /backoffice/, admin /admin/), "
                    f"shown only now, keep it: password {password}"
                )
            )
        return 0 if existing is not None else 1
