"""Database sessions, written in fewer round trips (SESSION_ENGINE; docs/benchmarks.md).

Django's database store spends ten statements on a logon's key rotation: a SELECT to check that a
random key is free, BEGIN/INSERT/COMMIT under the new key at once, BEGIN/UPDATE/COMMIT of the same row
when the response is saved, and a SELECT then a DELETE of the old row. This store keeps its behaviour
and writes the same rows with one:

- a new key is INSERTed straight away: the primary key refuses a duplicate, which is all the SELECT
  ever guarded against (a collision of 32 random characters is retried with another key);
- cycle_key() takes the new key at once, so the rest of the request and the cookie see it, and the
  row is written once, when the response is saved: the old row renamed to the new key with the new
  data in one UPDATE, so the old key is dead in the same statement (issue 19; an INSERT when the old
  row is gone meanwhile, as Django's cycle_key would write one);
- a single statement in autocommit is atomic already, so it gets no BEGIN/COMMIT; inside an outer
  transaction it runs in a savepoint as before.

A response that is not saved (a 500) leaves the old session as it was, as if the request never came.

Each of its statements is written as SQL on Django's cursor rather than built by the ORM: a session is
read on every request, and building the query cost three times its round trip (0.38 against 0.09 ms
of CPU, issue 19; docs/benchmarks.md). The table and columns are Django's, quoted by the backend.

A cookie that holds anything but a key this store could have made (32 of Django's key characters) is
no session: it is never looked up, so a NUL that PostgreSQL refuses in text cannot turn every page
into a 500 (docs/operations.md, "Poisoned cookie"), and the browser is told to drop it.
"""

from contextlib import nullcontext

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

SESSION_KEY_LENGTH = 32
_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._retired_key = None  # the key cycle_key() replaced; its row goes when the new one is written
        self._unwritten = False  # the current key has no row yet

    def _get_new_session_key(self):
        return get_random_string(SESSION_KEY_LENGTH, VALID_KEY_CHARS)

    def _validate_session_key(self, key):
        return isinstance(key, str) and len(key) == SESSION_KEY_LENGTH and _KEY_CHARS.issuperset(key)

    def load(self):
        """The session's data, or a new empty session when the row is gone or expired (as Django's)."""
        connection, table = self._table(router.db_for_read(self.model))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # nosec B608: Django's table, quoted by the backend
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])

    def _table(self, using):
        """The connection, and the table's name quoted by its backend (never anything a request sent)."""
        connection = connections[using]
        return connection, connection.ops.quote_name(self.model._meta.db_table)

    def cycle_key(self):
        data = self._session
        if not self._unwritten:
            self._retired_key = self.session_key
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self._unwritten = True
        self.modified = True

    def save(self, must_create=False):
        if self.session_key is None:
            return self.create()
        if self._unwritten:
            self._write_new_key()
            return
        self._write(must_create)

    def _write_new_key(self):
        retired, self._retired_key = self._retired_key, None
        while True:
            try:
                if not (retired and self._rename(retired)):
                    self._write(must_create=True)
                break
            except CreateError:  # the new key is taken: another one, nobody's row overwritten
                self._session_key = self._get_new_session_key()
        self._unwritten = False

    def _rename(self, old_key) -> bool:
        """The row of `old_key` becomes the current key's, with the current data: True if it existed."""
        data, expires = self._row(no_load=True)
        connection, table = self._table(router.db_for_write(self.model))
        scope = transaction.atomic(using=connection.alias) if connection.in_atomic_block else nullcontext()
        try:
            with scope, connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET session_key = %s, session_data = %s, expire_date = %s WHERE session_key = %s",  # nosec B608
                    [self.session_key, data, connection.ops.adapt_datetimefield_value(expires), old_key],
                )
                return cursor.rowcount > 0
        except IntegrityError:
            raise CreateError from None

    def _row(self, no_load):
        """The current data, encoded, and when it expires: what the row holds (as Django's store writes it)."""
        data = self._get_session(no_load=no_load)
        return self.encode(data), self.get_expiry_date()

    def _write(self, must_create):
        data, expires = self._row(no_load=must_create)
        connection, table = self._table(router.db_for_write(self.model))
        # A savepoint only where a failed INSERT would otherwise spoil an outer transaction.
        scope = transaction.atomic(using=connection.alias) if connection.in_atomic_block else nullcontext()
        try:
            with scope, connection.cursor() as cursor:
                values = [data, connection.ops.adapt_datetimefield_value(expires), self.session_key]
                if must_create:
                    cursor.execute(
                        f"INSERT INTO {table} (session_data, expire_date, session_key) VALUES (%s, %s, %s)",  # nosec B608
                        values,
                    )
                else:
                    cursor.execute(
                        f"UPDATE {table} SET session_data = %s, expire_date = %s WHERE session_key = %s",  # nosec B608
                        values,
                    )
                    if cursor.rowcount == 0:
                        raise UpdateError  # the row is gone (logged out elsewhere): SessionMiddleware's answer
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except (OperationalError, InterfaceError):
            # The database is unreachable, not the row gone: the busy page (ccass_portal/errors.py),
            # not SessionMiddleware's 400 for a session deleted meanwhile.
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise

    def delete(self, session_key=None):
        if session_key is not None:
            self._delete_rows([session_key])
            return
        keys = [self._retired_key] + ([] if self._unwritten else [self.session_key])
        self._retired_key, self._unwritten = None, False
        self._delete_rows([key for key in keys if key])

    def _delete_rows(self, keys):
        # One DELETE, no transaction: Django's store reads the row first, and QuerySet.delete()
        # wraps even a single fast delete in BEGIN/COMMIT. No signals or relations hang on sessions.
        if keys:
            query = self.model.objects.filter(session_key__in=keys)
            query._raw_delete(using=router.db_for_write(self.model))

    # The async API (unused by this WSGI app) goes through the same code, so a key cycled by one
    # is written by the other.
    async def acycle_key(self):
        await sync_to_async(self.cycle_key)()

    async def asave(self, must_create=False):
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key=None):
        await sync_to_async(self.delete)(session_key)
