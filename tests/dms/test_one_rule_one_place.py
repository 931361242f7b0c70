"""Issue 16 item 2 in DMS: DMS and the back-office share one rule for a profile's
disabling and deletion, and one list of DA roles (docs/architecture.md)."""

from __future__ import annotations

import pytest

from accounts.models import DA_ROLES, Role, User
from dms import backoffice, services
from dms.models import ChangeRequest, EServiceRecord
from dms.selectors import profile_listing
from tests.factories import make_person

from .test_services import authorise, change_payload

pytestmark = pytest.mark.django_db
Action = EServiceRecord.Action


def _in_session(logged_in_client, person, app):
    client = logged_in_client(person, app, portal="terminal")
    assert client.get("/terminal/").status_code == 200
    return client


def _dms_disable(roster, subject):
    cr = services.prepare_request(
        maker=roster.maker,
        kind=ChangeRequest.Kind.CHANGE,
        subject_user_id=subject.user_id,
        payload=change_payload(subject, status=User.Status.DISABLED),
    )
    authorise(roster, cr)


def _dms_delete(roster, subject):
    cr = services.prepare_request(
        maker=roster.maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=subject.user_id, payload={}
    )
    authorise(roster, cr)


def _backoffice(action, operator, da):
    backoffice.act_on_da(operator=operator[0], participant=da.participant, user_id=da.user_id, action=action)


def test_disabling_ends_the_sessions_alike_in_dms_and_the_back_office(roster, operator, logged_in_client, settings):
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = settings.PORTAL_LAUNCH_DATE  # DAs may hold user groups
    user, user_app = make_person(roster.maker.participant, "B0123411")
    da, da_app = make_person(roster.maker.participant, "B01234X4", role=Role.DA_CHECKER, user_groups=["11"])
    victims = [(_in_session(logged_in_client, user, user_app), user), (_in_session(logged_in_client, da, da_app), da)]
    stamps = {person.pk: User.objects.get(pk=person.pk).security_stamp for person in (user, da)}
    _dms_disable(roster, user)
    _backoffice(Action.DISABLE, operator, da)
    for client, person in victims:
        person = User.objects.get(pk=person.pk)
        assert person.status == User.Status.DISABLED and person.security_stamp != stamps[person.pk]
        assert client.get("/terminal/").status_code == 302  # the stolen or open session is gone


def test_deleting_is_the_same_soft_delete_in_dms_and_the_back_office(roster, operator):
    user, _ = make_person(roster.maker.participant, "B0123411")
    da, _ = make_person(roster.maker.participant, "B01234X4", role=Role.DA_CHECKER)
    stamps = {user.pk: user.security_stamp, da.pk: da.security_stamp}
    _dms_delete(roster, user)
    _backoffice(Action.DELETE, operator, da)
    for pk, stamp in stamps.items():
        gone = User.all_objects.get(pk=pk)  # the ID stays taken for ever
        assert gone.deleted_at is not None and not gone.is_active and gone.security_stamp != stamp
        assert not User.objects.filter(pk=pk).exists()


def test_the_back_office_and_the_listing_know_the_same_da_roles(roster, operator):
    """The roles the back-office may assign as DA roles are the ones the DMS listing counts as DAs."""
    for role in Role.values:
        person, _ = make_person(roster.maker.participant, "B0123412")
        if role in DA_ROLES:
            backoffice.assign_da_role(
                operator=operator[0], participant=person.participant, user_id=person.user_id, role=role
            )
            assert User.objects.get(pk=person.pk).is_delegated_administrator
        else:
            with pytest.raises(services.DmsRefusal):
                backoffice.assign_da_role(
                    operator=operator[0], participant=person.participant, user_id=person.user_id, role=role
                )
        User.objects.filter(pk=person.pk).delete()
    _, footer = profile_listing(roster.maker.participant)
    das = User.objects.filter(participant=roster.maker.participant)
    assert footer.total_das == sum(1 for person in das if person.is_delegated_administrator) == 3


# -- date order: one rule for the form, the service and the model ------------------------------


def test_the_date_order_refusal_is_the_one_translated_message_everywhere(roster, logged_in_client):
    from django.core.exceptions import ValidationError

    from .test_views import field_error, form_data, text

    maker = logged_in_client(roster.maker, roster.maker_app)
    maker.post("/i18n/setlang/", {"language": "zh-hant", "next": "/dms/"})
    response = maker.post(
        f"/dms/profiles/{roster.user.user_id}/change/",
        form_data(roster.user, enable_from="02/01/25", disable_after="01/01/25"),
    )
    assert response.status_code == 400
    assert field_error(text(response), "disable_after") == "停用日期不可早於啟用日期。"
    assert not ChangeRequest.objects.exists()

    from datetime import date

    from django.utils import translation

    person = User.objects.get(pk=roster.user.pk)
    person.enable_from, person.disable_after = date(2025, 1, 2), date(2025, 1, 1)
    with translation.override("zh-hant"), pytest.raises(ValidationError) as refused:
        person.clean()
    assert refused.value.message_dict["disable_after"] == ["停用日期不可早於啟用日期。"]
