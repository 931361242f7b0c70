"""Which factors give a DMS Authorisation Code (accounts.factors, `gives_authorisation_code`;
docs/architecture.md, "Adding a factor"): a maker beside a checker who has none, or whose
factor sends nothing, gets a refusal on the Checker ID field and no code is sent or counted."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from accounts.models import User
from dms import profiles, services
from dms.models import ChangeRequest
from dms.services import DmsRefusal

pytestmark = pytest.mark.django_db


def _pending(roster) -> ChangeRequest:
    subject = roster.user
    payload = {field: value for field, value in profiles.snapshot(subject).items() if field in profiles.PROFILE_FIELDS}
    payload["surname"] = "LEE"
    return services.prepare_request(
        maker=roster.maker, kind=ChangeRequest.Kind.CHANGE, subject_user_id=subject.user_id, payload=payload
    )


def test_a_checker_without_2fa_has_no_authorisation_code_even_with_a_card(roster, settings):
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    # The second checker never set up 2FA but still holds a card that logs on: a card is no second factor.
    User.objects.filter(pk=roster.checker2.pk).update(otp_channel="", twofa_set_up_at=None, srn="CARD0001")
    roster.checker2.refresh_from_db()
    roster.checker2.set_smartcard_password("123456")
    roster.checker2.save(update_fields=["smartcard_password"])
    cr = _pending(roster)
    for attempt in ("123456", roster.checker2_app.code()):
        with pytest.raises(DmsRefusal, match="has not set up 2FA") as refused:
            services.authorise_request(
                cr.pk, participant_id=cr.participant_id, checker_id=roster.checker2.user_id, code=attempt
            )
        assert refused.value.field == "checker_id"
    with pytest.raises(DmsRefusal, match="has not set up 2FA"):
        services.request_authorisation_code(cr.pk, participant_id=cr.participant_id, checker_id=roster.checker2.user_id)
    roster.checker2.refresh_from_db()
    assert roster.checker2.otp_failures == 0 and not roster.checker2.is_locked and mail.outbox == []
    cr.refresh_from_db()
    assert cr.is_pending and User.objects.get(pk=roster.user.pk).surname != "LEE"


def test_a_checker_whose_app_registration_is_gone_gives_a_wrong_code_that_counts(roster):
    """The stored choice decides (factors.chosen_factor_of), not the device: a checker on the app whose
    registration vanished is refused as a wrong code, counted towards their lockout, as before."""
    from otp.models import AuthenticatorDevice

    code = roster.checker_app.code()
    AuthenticatorDevice.objects.filter(user=roster.checker).delete()
    cr = _pending(roster)
    with pytest.raises(DmsRefusal) as refused:
        services.authorise_request(
            cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id, code=code
        )
    assert refused.value.field == "authorisation_code"
    roster.checker.refresh_from_db()
    assert roster.checker.otp_failures == 1
