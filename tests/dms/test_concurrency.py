"""SECURITY.md 25: 10 concurrent authorisations of one request make one change and one audit row.

On PostgreSQL: each thread has its own connection and transaction; the request row
is locked with SELECT ... FOR UPDATE, so the others wait, then see it decided.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import AuditEvent, User
from dms import services
from dms.models import ChangeRequest
from dms.roster import roster_of
from dms.services import DmsEvent, DmsRefusal
from tests.factories import make_person

from .test_services import change_payload

THREADS = 10


def _race(target, count: int) -> list:
    barrier = threading.Barrier(count)
    outcomes: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            result = target()
        except Exception as exc:  # collected and asserted on below
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sec25_ten_concurrent_authorisations_make_one_change(postgres, roster):
    cr = services.prepare_request(
        maker=roster.maker,
        kind=ChangeRequest.Kind.CHANGE,
        subject_user_id=roster.user.user_id,
        payload=change_payload(roster.user, email="once@abc.example", transaction_limit="10.00"),
    )
    code = roster.checker_app.code()

    outcomes = _race(
        lambda: services.authorise_request(
            cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id, code=code
        ),
        THREADS,
    )

    approved = [o for o in outcomes if isinstance(o, ChangeRequest)]
    refused = [o for o in outcomes if isinstance(o, DmsRefusal)]
    assert len(outcomes) == THREADS and len(approved) == 1, outcomes
    assert len(refused) == THREADS - 1 and all(r.message == services.NOT_PENDING for r in refused)
    assert AuditEvent.objects.filter(kind=DmsEvent.REQUEST_AUTHORISED).count() == 1
    assert User.objects.get(pk=roster.user.pk).email == "once@abc.example"
    # the losers never reached the code check: nothing counted against the checker
    checker = User.objects.get(pk=roster.checker.pk)
    assert checker.otp_failures == 0 and checker.logon_failures == []
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeRequest.Status.APPROVED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_removals_cannot_break_the_roster(postgres, roster):
    """Each removal alone keeps two checkers; together they would leave one. The
    participant row lock makes the second see the first."""
    third, third_app = make_person(roster.maker.participant, "B01234X4", role="DA_CHECKER")
    first = services.prepare_request(
        maker=roster.maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=roster.checker2.user_id
    )
    second = services.prepare_request(maker=roster.maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=third.user_id)
    jobs = iter([(first, roster.checker, roster.checker_app), (second, roster.checker2, roster.checker2_app)])
    lock = threading.Lock()

    def authorise_one():
        with lock:
            cr, checker, app = next(jobs)
        return services.authorise_request(
            cr.pk, participant_id=cr.participant_id, checker_id=checker.user_id, code=app.code()
        )

    outcomes = _race(authorise_one, 2)
    approved = [o for o in outcomes if isinstance(o, ChangeRequest)]
    assert len(approved) == 1 and len([o for o in outcomes if isinstance(o, DmsRefusal)]) == 1, outcomes
    assert roster_of(roster.maker.participant).checkers == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_preparations_for_one_profile_keep_one_pending_request(postgres, roster):
    outcomes = _race(
        lambda: services.prepare_request(
            maker=roster.maker,
            kind=ChangeRequest.Kind.CHANGE,
            subject_user_id=roster.user.user_id,
            payload=change_payload(roster.user, surname="LEE"),
        ),
        THREADS,
    )
    assert len([o for o in outcomes if isinstance(o, ChangeRequest)]) == 1, outcomes
    assert all("already awaiting authorisation" in o.message for o in outcomes if isinstance(o, DmsRefusal))
    assert ChangeRequest.objects.filter(subject_user_id=roster.user.user_id, status="PENDING").count() == 1
    assert AuditEvent.objects.filter(kind=DmsEvent.REQUEST_PREPARED).count() == 1
