"""The attacker model of docs/security.md, (c) a DA of another firm and (d) a malicious DA maker in
the same firm, played beside their victims (issue 12, "Beyond the findings"). The e-mail
Authorisation Code side of (d) is proved by the e-mail OTP tests (docs/security.md, finding 2)."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, User
from dms.models import ChangeRequest
from tests.logon_helpers import comparable_page

from .test_views import field_error, form_data, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def maker_client(roster, logged_in_client):
    return logged_in_client(roster.maker, roster.maker_app)


def prepared_change(client, subject: User, **changes) -> str:
    """The maker's request page for a change of `subject` (Change -> the request)."""
    response = client.post(f"/dms/profiles/{subject.user_id}/change/", form_data(subject, **changes))
    assert response.status_code == 302, text(response)[:2000]
    return response["Location"]


# -- (c) a DA of another firm ------------------------------------------------------------------


def test_c_another_firms_maker_cannot_name_our_checker_nor_count_against_them(roster, other_roster, logged_in_client):
    stranger = logged_in_client(other_roster.maker, other_roster.maker_app)
    url = prepared_change(stranger, other_roster.user, email="x@xyz.example")
    answers = {}
    for typed in (roster.checker.user_id, "B0123499"):  # our checker, and an ID that does not exist
        for _ in range(3):  # three wrong codes would count as one failed logon of a checker
            response = stranger.post(url, {"action": "confirm", "checker_id": typed, "authorisation_code": "123456"})
        answers[typed] = (response.status_code, comparable_page(field_error(text(response), "checker_id"), typed))
    assert len(set(answers.values())) == 1 and answers["B0123499"][0] == 400, answers
    checker = User.objects.get(pk=roster.checker.pk)
    assert checker.otp_failures == 0 and checker.logon_failures == [] and not checker.is_locked
    assert not AuditEvent.objects.filter(subject=checker).exists()
    # ... and our checker, beside them, still authorises our own requests with the right code.
    maker = logged_in_client(roster.maker, roster.maker_app)
    ours = prepared_change(maker, roster.user, email="y@abc.example")
    maker.post(
        ours,
        {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": roster.checker_app.code()},
    )
    assert User.objects.get(pk=roster.user.pk).email == "y@abc.example"


def test_c_another_firms_da_sees_our_requests_and_profiles_as_missing(roster, other_roster, logged_in_client):
    maker = logged_in_client(roster.maker, roster.maker_app)
    ours = prepared_change(maker, roster.user, email="y@abc.example")
    stranger = logged_in_client(other_roster.checker, other_roster.checker_app)
    missing = ChangeRequest.objects.order_by("-pk").first().pk + 1000
    for exists, absent in [
        (ours, f"/dms/requests/{missing}/"),
        (f"/dms/profiles/{roster.user.user_id}/enquire/", "/dms/profiles/B0123499/enquire/"),
    ]:
        seen, unseen = stranger.get(exists), stranger.get(absent)
        assert seen.status_code == unseen.status_code == 404
        assert comparable_page(text(seen)) == comparable_page(text(unseen))
    answer = stranger.post(
        ours,
        {
            "action": "confirm",
            "checker_id": other_roster.checker.user_id,
            "authorisation_code": other_roster.checker_app.code(),
        },
    )
    assert answer.status_code == 404
    assert ChangeRequest.objects.get(pk=int(ours.rstrip("/").rsplit("/", 1)[1])).is_pending


# -- (d) a malicious DA maker in the same firm -----------------------------------------------------


def test_d_a_maker_cannot_replay_the_code_a_checker_typed_on_their_screen(roster, maker_client):
    first = prepared_change(maker_client, roster.user, email="one@abc.example")
    second = prepared_change(maker_client, roster.maker, email="maker@abc.example")  # a change of their own
    code = roster.checker_app.code()
    assert (
        maker_client.post(
            first, {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": code}
        ).status_code
        == 302
    )
    replay = maker_client.post(
        second, {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": code}
    )
    assert replay.status_code == 400 and "incorrect" in field_error(text(replay), "authorisation_code")
    assert User.objects.get(pk=roster.maker.pk).email != "maker@abc.example"


def test_d_a_maker_cannot_check_their_own_request_nor_reach_a_checker_about_themselves(roster, maker_client):
    url = prepared_change(maker_client, roster.checker, email="c@abc.example")
    for checker, app, message in [
        (roster.maker, roster.maker_app, "maker of a request cannot authorise"),
        (roster.checker, roster.checker_app, "concerns themselves"),
    ]:
        answer = maker_client.post(
            url, {"action": "confirm", "checker_id": checker.user_id, "authorisation_code": app.code()}
        )
        assert answer.status_code == 400 and message in field_error(text(answer), "checker_id")
    assert User.objects.get(pk=roster.checker.pk).email != "c@abc.example"
