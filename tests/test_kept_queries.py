"""ccass_portal.kept_queries: an ORM read compiled once per worker gives exactly the queryset's answer,
takes the queryset's row lock, and refuses what it cannot keep (docs/decisions.md, "Kept queries")."""

import itertools
import json
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.db.models import Value
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import logon
from accounts.middleware import _device_and_person
from accounts.models import User
from ccass_portal import clock
from ccass_portal.kept_queries import KeptQuery
from otp import services as otp_services
from otp.models import AuthenticatorDevice
from tests.factories import make_person
from tests.test_logging import run as run_in_production

# Without the test-case transaction, so that a second connection sees the rows. Every test but the two
# on row locks (SQLite takes none) also runs on SQLite, the embedded default.
pytestmark = pytest.mark.django_db(transaction=True)
both = pytest.mark.embedded


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def by_user_id() -> KeptQuery:
    return KeptQuery(lambda user_id: User.objects.filter(user_id=user_id), form="first", user_id=str)


@both
def test_a_kept_read_gives_the_querysets_own_instance_field_by_field(participant):
    """Converters included: the JSON list of failures, the aware datetimes, the choices."""
    person, _ = make_person(participant, "B00001KQ")
    User.objects.filter(pk=person.pk).update(logon_failures=[clock.now().isoformat()], locked_at=clock.now())
    kept = by_user_id()
    for _ in range(2):  # compiled on the first call, kept for the second
        found = kept(user_id="B00001KQ")
        assert fields(found) == fields(User.objects.filter(user_id="B00001KQ").first())
        assert isinstance(found.logon_failures, list) and found.locked_at.tzinfo is not None
        assert found._state.adding is False and found._state.db == "default"
    assert kept(user_id="B00009KQ") is None


@both
def test_a_kept_read_keeps_the_managers_rule_soft_deleted_people_are_not_found(participant):
    person, _ = make_person(participant, "B00002KQ")
    assert logon.find_user("B00002KQ") == person
    User.all_objects.filter(pk=person.pk).update(deleted_at=clock.now())
    assert logon.find_user("B00002KQ") is None
    assert User.objects.filter(user_id="B00002KQ").first() is None  # the same answer as the manager's


@both
def test_the_device_read_with_its_person_is_the_select_related_one(participant):
    person, _ = make_person(participant, "B00003KQ")
    stranger, _ = make_person(participant, "B00004KQ")
    device = TOTPDevice.objects.get(user=person)
    kept = KeptQuery(
        lambda pk, user_id: TOTPDevice.objects.select_related("user").filter(
            User.objects.shown("user__"), pk=pk, user_id=user_id
        ),
        form="first",
        pk=int,
        user_id=str,
    )
    with CaptureQueriesContext(connection) as queries:
        found = kept(pk=device.pk, user_id=person.pk)
        assert fields(found.user) == fields(person)  # read in the same statement: no second query
    assert len(queries) == 1
    assert fields(found) == fields(device)
    # Another person's device id with the victim's user id (or the reverse) finds nothing.
    assert kept(pk=device.pk, user_id=stranger.pk) is None


@both
def test_the_middlewares_kept_read_finds_the_sessions_own_device_only(participant):
    """VerifiedPersonMiddleware's read, as it runs: a stolen or forged session naming the victim's device
    with another person (or a deleted person) verifies nothing."""
    person, _ = make_person(participant, "B00012KQ")
    stranger, _ = make_person(participant, "B00013KQ")
    device = AuthenticatorDevice.objects.get(user=person)
    read = _device_and_person(AuthenticatorDevice)
    assert read(pk=device.pk, user_id=person.pk).user == person
    assert read(pk=device.pk, user_id=stranger.pk) is None
    User.all_objects.filter(pk=person.pk).update(deleted_at=clock.now())
    assert read(pk=device.pk, user_id=person.pk) is None


@both
def test_exists_is_the_querysets_exists(participant):
    person, _ = make_person(participant, "B00005KQ")
    assert otp_services.has_confirmed_app_device(person) is True
    AuthenticatorDevice.objects.filter(user=person).update(confirmed=False)
    assert otp_services.has_confirmed_app_device(person) is False


def test_a_locking_read_outside_a_transaction_is_refused_as_the_orm_refuses_it(participant, postgres):
    make_person(participant, "B00006KQ")
    kept = KeptQuery(
        lambda user_id: User.objects.select_for_update().filter(user_id=user_id), form="first", user_id=str
    )
    with pytest.raises(TransactionManagementError):
        kept(user_id="B00006KQ")  # compiling
    with transaction.atomic():
        kept(user_id="B00006KQ")
    with pytest.raises(TransactionManagementError):
        kept(user_id="B00006KQ")  # kept


def test_a_locking_read_holds_the_row_lock_against_another_connection(participant, postgres):
    """The lock is real: while one transaction holds the person, another's NOWAIT lock fails."""
    make_person(participant, "B00007KQ")
    held, release, outcome = threading.Event(), threading.Event(), {}

    def holder():
        try:
            with transaction.atomic():
                logon._PERSON_LOCKED(user_id="B00007KQ")  # the OTP step's read of the person
                held.set()
                release.wait(10)
        finally:
            connection.close()

    def other():
        try:
            with transaction.atomic():
                User.objects.select_for_update(nowait=True).get(user_id="B00007KQ")
            outcome["locked"] = False
        except DatabaseError:
            outcome["locked"] = True
        finally:
            connection.close()

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(10)
    second = threading.Thread(target=other)
    second.start()
    second.join(10)
    release.set()
    first.join(10)
    assert outcome == {"locked": True}


@both
def test_a_value_that_varies_without_being_a_slot_is_refused():
    """A value read while building (the time, in life; a counter here) would be frozen into the kept
    SQL: refused when compiled."""
    counter = itertools.count()
    kept = KeptQuery(
        lambda user_id: User.objects.filter(user_id=user_id, otp_failures=next(counter)), form="first", user_id=str
    )
    with pytest.raises(ImproperlyConfigured, match="varies"):
        kept(user_id="B00001KQ")


@both
def test_a_constant_read_while_building_is_refused_even_when_it_does_not_change():
    """A setting or the day, read while building, would be kept for good: only slots and flags may be."""
    kept = KeptQuery(lambda user_id: User.objects.filter(user_id=user_id, otp_failures=5), form="first", user_id=str)
    with pytest.raises(ImproperlyConfigured, match="neither a slot nor a flag"):
        kept(user_id="B00001KQ")
    flagged = KeptQuery(
        lambda user_id: AuthenticatorDevice.objects.filter(user_id=user_id, confirmed=True), form="exists", user_id=str
    )
    assert flagged(user_id="B00001KQ") is False  # a boolean the queryset writes itself is kept


@both
def test_a_lookup_that_escapes_its_value_is_refused_or_answers_as_the_orm(participant):
    """SQLite's `iexact` is a LIKE with the value escaped: kept, `%` would be a wildcard, so it is refused.
    PostgreSQL's compares with `=`: kept, it answers as the ORM does, `%` included."""
    make_person(participant, "B00011KQ")
    kept = KeptQuery(lambda user_id: User.objects.filter(user_id__iexact=user_id), form="first", user_id=str)
    if connection.vendor == "sqlite":
        with pytest.raises(ImproperlyConfigured):
            kept(user_id="b00011kq")
        return
    for typed in ("b00011kq", "b0001%kq", "B0001_KQ"):
        assert kept(user_id=typed) == User.objects.filter(user_id__iexact=typed).first()
    assert kept(user_id="b00011kq").user_id == "B00011KQ" and kept(user_id="b0001%kq") is None


@both
def test_a_slot_the_sql_does_not_carry_unchanged_is_refused():
    """`contains` wraps the value in wildcards: the stand-in is not found, so nothing is kept."""
    kept = KeptQuery(lambda user_id: User.objects.filter(user_id__contains=user_id), form="first", user_id=str)
    with pytest.raises(ImproperlyConfigured, match="changed on its way|unchanged"):
        kept(user_id="B00001KQ")


@both
def test_values_of_another_type_are_refused_not_coerced():
    kept = KeptQuery(lambda pk: TOTPDevice.objects.filter(pk=pk), form="first", pk=int)
    for value in ("1", True, 1.0):
        with pytest.raises(TypeError):
            kept(pk=value)
    with pytest.raises(TypeError):
        kept()
    with pytest.raises(TypeError):
        kept(pk=1, user_id="B00001KQ")


@both
def test_what_cannot_be_kept_is_refused_when_declared_or_compiled():
    with pytest.raises(ImproperlyConfigured):
        KeptQuery(lambda when: User.objects.filter(locked_at=when), form="first", when=type(clock.now()))
    with pytest.raises(ImproperlyConfigured):
        KeptQuery(lambda user_id: User.objects.filter(user_id=user_id), form="count", user_id=str)
    prefetching = KeptQuery(
        lambda user_id: User.objects.filter(user_id=user_id).prefetch_related("participant"),
        form="first",
        user_id=str,
    )
    with pytest.raises(ImproperlyConfigured):
        prefetching(user_id="B00001KQ")
    annotated = KeptQuery(
        lambda user_id: User.objects.filter(user_id=user_id).annotate(one=Value(1)), form="first", user_id=str
    )
    with pytest.raises(ImproperlyConfigured):
        annotated(user_id="B00001KQ")
    not_a_queryset = KeptQuery(lambda user_id: list(User.objects.filter(user_id=user_id)), form="first", user_id=str)
    with pytest.raises(ImproperlyConfigured):
        not_a_queryset(user_id="B00001KQ")


def test_a_statement_a_worker_repeats_is_prepared_on_its_connection(participant, postgres):
    """Server-side binding (settings.DATABASES): PostgreSQL plans the logon's reads once per connection."""
    make_person(participant, "B00008KQ")
    for _ in range(6):  # psycopg prepares a statement once it has run it five times: on the sixth run
        assert logon.find_user("B00008KQ") is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any('FROM "accounts_user"' in statement and "$1" in statement for statement in prepared), prepared


@pytest.mark.parametrize(("setting", "threshold"), [(None, 5), ("2", 2), ("", None)])
def test_preparing_follows_its_setting_and_can_be_turned_off_for_a_transaction_pooler(setting, threshold):
    """Values are always bound server-side on PostgreSQL; preparing is off when the setting is empty."""
    code = (
        "import json; from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
        "print(json.dumps([o['server_side_binding'], o['prepare_threshold']]))"
    )
    env = {"DATABASE_URL": "postgres://portal@127.0.0.1:9/portal"}  # never connected to here
    if setting is not None:
        env["DJANGO_DB_PREPARE_THRESHOLD"] = setting
    result = run_in_production(code, **env)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, threshold]
