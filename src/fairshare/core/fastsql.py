"""Single-row SELECT and INSERT without the ORM's per-query SQL compilation.

The registration rush is CPU-bound (BENCHMARKS.md): compiling an ORM query costs about
0.5 ms of Python per statement, several times the statement itself on loopback. These
helpers build the SQL text of a model once per process and reuse it; values go through
the same field methods the ORM uses (``pre_save``/``get_db_prep_save`` on the way in,
the backend's and the field's converters on the way out), so instances are identical to
the ORM's. Use them on hot paths only; everything else stays on the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, ForeignKey, Model

M = TypeVar("M", bound=Model)


def column_of(field: Field[Any, Any]) -> str:
    """A concrete field's column name (the stubs allow None: a field without a column)."""
    if field.column is None:
        raise TypeError(f"{field} has no database column")
    return field.column


def model_field(model: type[Model], name: str) -> Field[Any, Any]:
    """``model``'s concrete field ``name`` (a relation's reverse side is refused)."""
    found = model._meta.get_field(name)
    if not isinstance(found, Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return found


@cache
def _select_parts(model: type[Model], vendor: str) -> tuple[str, list[str], list[Any]]:
    conn = connections["default"]
    qn = conn.ops.quote_name
    fields = list(model._meta.concrete_fields)
    table = model._meta.db_table
    cols = ", ".join(f"{qn(table)}.{qn(column_of(f))}" for f in fields)
    converters = []
    for f in fields:
        col = f.get_col(table)  # passed to the converters as the ORM does (SQLite's Decimal)
        converters.append((conn.ops.get_db_converters(col) + f.get_db_converters(conn), col))
    head = f"SELECT {cols} FROM {qn(table)}"  # noqa: S608 - names from model metadata
    return head, [f.attname for f in fields], converters


def model_columns(model: type[Model]) -> str:
    """The quoted, table-qualified column list of ``model`` (for hand-written joins)."""
    return (
        _select_parts(model, connections["default"].vendor)[0]
        .removeprefix("SELECT ")
        .split(" FROM ")[0]
    )


def model_width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def row_to_model(model: type[M], row: Sequence[Any], *, using: str = "default") -> M:
    """An instance of ``model`` from the values of ``model_columns(model)``, in order."""
    conn = connections[using]
    _, names, converters = _select_parts(model, conn.vendor)
    values = list(row)
    for i, (funcs, col) in enumerate(converters):
        for func in funcs:
            values[i] = func(values[i], col, conn)
    return model.from_db(using, names, values)


def select_models(
    model: type[M], where: str, params: Sequence[Any], *, suffix: str = "", using: str = "default"
) -> list[M]:
    """``SELECT <all columns> FROM <table> WHERE <where> <suffix>`` as model instances.

    ``where`` uses unqualified or table-qualified column names and ``%s`` placeholders.
    """
    conn = connections[using]
    head = _select_parts(model, conn.vendor)[0]
    with conn.cursor() as cursor:
        cursor.execute(f"{head} WHERE {where} {suffix}", params)
        rows = cursor.fetchall()
    return [row_to_model(model, row, using=using) for row in rows]


@cache
def _insert_sql(
    model: type[Model], vendor: str, ignore_conflicts: bool
) -> tuple[str, list[Field[Any, Any]]]:
    conn = connections["default"]
    qn = conn.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    pk = model._meta.pk
    # Table and column names come from model metadata; values are parameters.
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(qn(column_of(f)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if conn.features.can_return_columns_from_insert:
        sql += f" RETURNING {qn(column_of(pk))}"
    return sql, fields


def insert_model(obj: Model, *, ignore_conflicts: bool = False, using: str = "default") -> bool:
    """INSERT ``obj`` (auto primary key) in one statement and set its pk.

    With ``ignore_conflicts`` a unique-constraint conflict inserts nothing (``ON CONFLICT
    DO NOTHING``) and False is returned; other errors raise as with the ORM.
    """
    conn = connections[using]
    sql, fields = _insert_sql(type(obj), conn.vendor, ignore_conflicts)
    params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        if conn.features.can_return_columns_from_insert:
            row = cursor.fetchone()
            if row is None:
                return False
            pk = row[0]
        else:  # pragma: no cover - SQLite < 3.35
            if cursor.rowcount == 0:
                return False
            pk = cursor.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
    return True


def insert_statement(obj: Model, *, using: str = "default") -> tuple[str, list[Any]]:
    """The INSERT of ``obj`` without RETURNING (its pk stays unset), for ``WriteBatch``."""
    conn = connections[using]
    sql, fields = _insert_sql(type(obj), conn.vendor, False)
    sql = sql.split(" RETURNING ")[0]
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]


class WriteBatch:
    """Writes whose results are not needed, sent in ONE round trip on PostgreSQL.

    psycopg's client-side-binding cursor (Django's default) accepts several statements
    in one ``execute``; they run in order inside the current transaction, and an error in
    any of them raises like a single statement would. SQLite runs them one by one (it
    is in-process: there is no round trip to save).
    """

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self.statements: list[tuple[str, list[Any]]] = []

    def add(self, sql: str, params: Sequence[Any]) -> None:
        self.statements.append((sql, list(params)))

    def insert(self, obj: Model) -> None:
        self.statements.append(insert_statement(obj, using=self.using))

    def flush(self) -> None:
        conn = connections[self.using]
        todo, self.statements = self.statements, []
        if not todo:
            return
        one_trip = conn.vendor == "postgresql" and not conn.settings_dict.get("OPTIONS", {}).get(
            "server_side_binding"
        )
        with conn.cursor() as cursor:
            if one_trip:
                cursor.execute("; ".join(s for s, _ in todo), [p for _, ps in todo for p in ps])
            else:
                for sql, params in todo:
                    cursor.execute(sql, params)


@dataclass(frozen=True)
class Join:
    """One model joined in ``select_joined``.

    Either ``field``: a forward foreign key of the model at position ``parent`` (0 is the
    base model, 1 the first join …); the ON clause follows the key and the joined instance
    is cached on that relation. Or ``on``: an ON clause of your own (``{ModelName}``
    stands for a model's quoted table), and the caller links the instances itself.
    """

    model: type[Model]
    field: str = ""
    parent: int = 0
    on: str = ""
    outer: bool = False


@dataclass(frozen=True)
class JoinedRow:
    models: tuple[Any, ...]  # the base instance, then one per join (None: outer join missed)
    extra: tuple[Any, ...]  # the values of ``extra`` expressions, raw


def _tables(base: type[Model], joins: Sequence[Join]) -> dict[str, str]:
    qn = connections["default"].ops.quote_name
    return {m.__name__: qn(m._meta.db_table) for m in (base, *(j.model for j in joins))}


@cache
def _forward_key(model: type[Model], name: str) -> ForeignKey[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, ForeignKey):
        raise TypeError(f"{model.__name__}.{name} is not a foreign key")
    return field


@cache
def _joined_sql(
    base: type[Model],
    joins: tuple[Join, ...],
    where: str,
    extra: tuple[str, ...],
    suffix: str,
    vendor: str,
) -> str:
    qn = connections["default"].ops.quote_name
    tables = _tables(base, joins)
    models = [base, *(j.model for j in joins)]
    cols = [model_columns(m) for m in models] + [e.format(**tables) for e in extra]
    parts = [f"SELECT {', '.join(cols)} FROM {tables[base.__name__]}"]  # noqa: S608
    for join in joins:
        other = tables[join.model.__name__]
        if join.field:
            parent = models[join.parent]
            column = qn(column_of(_forward_key(parent, join.field)))
            key = qn(column_of(join.model._meta.pk))
            on = f"{other}.{key} = {tables[parent.__name__]}.{column}"
        else:
            on = join.on.format(**tables)
        parts.append(f"{'LEFT' if join.outer else 'INNER'} JOIN {other} ON {on}")
    parts.append(f"WHERE {where.format(**tables)} {suffix}")
    return " ".join(parts)  # names from model metadata; values are parameters


@cache
def _pk_index(model: type[Model]) -> int:
    return [f.attname for f in model._meta.concrete_fields].index(model._meta.pk.attname)


def select_joined(
    base: type[Model],
    joins: Sequence[Join],
    where: str,
    params: Sequence[Any],
    *,
    extra: Sequence[str] = (),
    suffix: str = "",
    using: str = "default",
) -> list[JoinedRow]:
    """One SELECT of ``base`` and its ``joins``, each row sliced into model instances.

    The SQL text is built once per process and vendor (``where``, ``on`` and ``extra``
    use ``{ModelName}`` for quoted tables and ``%s`` placeholders; ``params`` fill the
    ON clauses first, then ``where``). Instances joined through ``field`` are cached on
    their parent's relation, so reading it costs no query.
    """
    conn = connections[using]
    joins = tuple(joins)
    sql = _joined_sql(base, joins, where, tuple(extra), suffix, conn.vendor)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    widths = [model_width(m) for m in (base, *(j.model for j in joins))]
    out = []
    for row in rows:
        at, models = 0, []
        for model, width in zip((base, *(j.model for j in joins)), widths, strict=True):
            values = row[at : at + width]
            found = values[_pk_index(model)] is not None
            models.append(row_to_model(model, values, using=using) if found else None)
            at += width
        for join, obj in zip(joins, models[1:], strict=True):
            parent = models[join.parent]
            if join.field and obj is not None and parent is not None:
                _forward_key(type(parent), join.field).set_cached_value(parent, obj)
        out.append(JoinedRow(models=tuple(models), extra=tuple(row[at:])))
    return out
