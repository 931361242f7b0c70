"""ORM reads whose SQL is compiled once per worker (docs/decisions.md, "Kept queries").

A logon reads the person and their device in five statements. Django builds each statement's SQL
again on every call: about 0.3 ms of CPU to compile a row of 48 columns and 0.3 ms more to build the
converters and populators, against 0.15 ms for the database round trip (issue 19). A `KeptQuery`
keeps what Django built the first time, for one queryset that differs between calls only in the
values it is given, and runs that SQL with each call's values. The rule stays where it was written:
in the queryset, through the managers and filters the rest of the project uses.

What may be kept is checked when it is compiled, not trusted:
- every value in the SQL is a slot, given anew on each call, or a boolean the queryset writes itself
  (`confirmed=True`). A string, number or date read while building (a setting, the day) would be
  kept for good: it is refused, even when it would not have changed;
- the queryset is compiled twice, with different stand-ins, and must come out the same but for them;
- a slot must reach the SQL unchanged. The stand-ins carry `%`, `_`, `\\`, capitals and spaces, so a
  lookup that escapes, folds or trims its value (`contains`, `iexact` on SQLite) is refused rather
  than given a value it would have escaped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

# Values a slot may take: those Django passes to the driver unchanged, so the stand-in found in the
# compiled parameters is the place each call's value goes.
SLOT_TYPES = (str, int)
# The only values besides the slots a kept query may carry: the queryset's own flags.
CONSTANT_TYPES = (bool, type(None))


def _stand_in(kind: type) -> Any:
    if kind is str:
        return f" Kept%_\\{secrets.token_hex(12)} "
    if kind is int:
        # Inside 32 bits: Django turns an out-of-range integer lookup into "no rows" before any SQL.
        # (A value out of range given later reaches the database, which finds no row either.)
        return 1_000_000_000 + secrets.randbelow(1_000_000_000)
    raise ImproperlyConfigured(f"A kept query's slot is one of {SLOT_TYPES}, not {kind!r}.")


def _refuse_a_lock_outside_a_transaction(connection, locks: bool) -> None:
    """As the ORM refuses it, whether the query is being compiled or was kept."""
    if locks and connection.features.has_select_for_update and connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]  # (position in params, slot name)
    locks: bool  # SELECT ... FOR UPDATE: only inside a transaction, as the ORM insists
    # Rows to model instances, as ModelIterable does (None for EXISTS).
    model: Any = None
    init_list: tuple = ()
    fields: tuple[int, int] = (0, 0)
    populators: tuple = ()
    converters: tuple = ()  # (position, converters, expression)


class KeptQuery:
    """One queryset, built by `build(**values)`, compiled once per database connection alias.

    `form` is "first" (the queryset's `.first()`: a model instance or None) or "exists" (its
    `.exists()`). `slots` name each value and its type. Each call checks the values' types, as the
    ORM would have coerced them; the SQL, the row locks, the converters and the instances built are
    the queryset's own."""

    def __init__(self, build: Callable[..., QuerySet], *, form: str, **slots: type):
        if form not in ("first", "exists"):
            raise ImproperlyConfigured(f"A kept query is 'first' or 'exists', not {form!r}.")
        for kind in slots.values():
            _stand_in(kind)  # refuses a type that may not be a slot
        self.build, self.form, self.slots = build, form, slots
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def __call__(self, **values):
        if values.keys() != self.slots.keys():
            raise TypeError(f"A kept query takes exactly {sorted(self.slots)}, not {sorted(values)}.")
        for name, value in values.items():
            if type(value) is not self.slots[name]:  # bool is an int: refused, as is any subclass
                raise TypeError(f"{name} must be {self.slots[name].__name__}, not {type(value).__name__}.")
        connection = connections[DEFAULT_DB_ALIAS]
        key = (connection.alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(connection)
        return self._run(connection, compiled, values)

    # Compiling ------------------------------------------------------------------------------------

    def _queryset(self, values: dict) -> QuerySet:
        queryset = self.build(**values)
        if not isinstance(queryset, QuerySet):
            raise ImproperlyConfigured("A kept query is built as a queryset.")
        if queryset.db != DEFAULT_DB_ALIAS:
            raise ImproperlyConfigured("A kept query reads the default database.")
        if queryset._prefetch_related_lookups or queryset._known_related_objects or queryset.query.annotations:
            raise ImproperlyConfigured("A kept query builds plain rows: no prefetch, no annotations.")
        if self.form == "first":
            return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]  # as QuerySet.first()
        return queryset

    def _sql(self, connection, values: dict):
        queryset = self._queryset(values)
        locks = bool(queryset.query.select_for_update)
        _refuse_a_lock_outside_a_transaction(connection, locks)
        if self.form == "exists":
            compiler = queryset.query.exists().get_compiler(using=connection.alias)  # as QuerySet.exists()
        else:
            compiler = queryset.query.get_compiler(using=connection.alias)
        sql, params = compiler.as_sql()
        return compiler, sql, tuple(params), locks

    def _compile(self, connection) -> _Compiled:
        first = {name: _stand_in(kind) for name, kind in self.slots.items()}
        second = {name: _stand_in(kind) for name, kind in self.slots.items()}
        compiler, sql, params, locks = self._sql(connection, first)
        _, sql_again, params_again, _ = self._sql(connection, second)
        slot_of = {value: name for name, value in first.items()}
        slots = []
        if sql != sql_again or len(params) != len(params_again):
            raise ImproperlyConfigured("A kept query's SQL must not depend on its values.")
        for position, (one, other) in enumerate(zip(params, params_again, strict=True)):
            name = slot_of.get(one) if type(one) in SLOT_TYPES else None
            if name is not None and other == second[name]:
                slots.append((position, name))
            elif one != other or type(one) is not type(other):
                raise ImproperlyConfigured(
                    f"A kept query's parameter {position} varies between builds without being a slot: "
                    "a value read while building, or a slot's value changed on its way to the SQL."
                )
            elif type(one) not in CONSTANT_TYPES and not self._exists_one(sql, position, one):
                raise ImproperlyConfigured(
                    f"A kept query's parameter {position} ({one!r}) is neither a slot nor a flag: a value read "
                    "while building would be kept for good; make it a slot."
                )
        if {name for _, name in slots} != set(self.slots):
            raise ImproperlyConfigured("Each slot of a kept query must reach the SQL unchanged.")
        if self.form == "exists":
            return _Compiled(sql=sql, params=params, slots=tuple(slots), locks=locks)
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        converters = compiler.get_converters([column for column, _, _ in select])
        return _Compiled(
            sql=sql,
            params=params,
            slots=tuple(slots),
            locks=locks,
            model=klass_info["model"],
            init_list=tuple(column.target.attname for column, _, _ in select[start:end]),
            fields=(start, end),
            populators=tuple(get_related_populators(klass_info, select, connection.alias)),
            converters=tuple((position, convs, expression) for position, (convs, expression) in converters.items()),
        )

    def _exists_one(self, sql: str, position: int, value) -> bool:
        """Django's own `SELECT 1 AS "a"` of `.exists()`, bound as a value on PostgreSQL."""
        return self.form == "exists" and position == 0 and sql.startswith('SELECT %s AS "a"') and value == 1

    # Running --------------------------------------------------------------------------------------

    @staticmethod
    def _run(connection, compiled: _Compiled, values: dict):
        _refuse_a_lock_outside_a_transaction(connection, compiled.locks)
        params = list(compiled.params)
        for position, name in compiled.slots:
            params[position] = values[name]
        with connection.cursor() as cursor:  # Django's cursor: its wrappers, logging and error translation
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if compiled.model is None:
            return row is not None
        if row is None:
            return None
        row = list(row)
        for position, convs, expression in compiled.converters:
            value = row[position]
            for converter in convs:
                value = converter(value, expression, connection)
            row[position] = value
        start, end = compiled.fields
        instance = compiled.model.from_db(connection.alias, list(compiled.init_list), row[start:end])
        for populator in compiled.populators:
            populator.populate(row, instance)
        return instance
