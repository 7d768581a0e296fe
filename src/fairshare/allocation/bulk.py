"""Set-based inserts for the allocation engine (one ``executemany`` per table).

``bulk_create`` instantiates a model object per row and prepares every field of
every row, which dominates the time of a 100,000-voucher run. ``insert_rows``
prepares the columns that are the same for every row once (from the given
constants or the fields' defaults) and adapts only the varying columns, then
sends one parametrized INSERT with ``executemany``. It writes exactly the rows
``bulk_create`` would, inside the caller's transaction; constraints still apply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django.db import connections, models

_CHUNK = 5000


@dataclass(slots=True)
class IssuedVoucher:
    """A voucher as issued by a run (what the API answer and the SMS need)."""

    registration_id: int
    household_id: int
    committee_id: int
    committee_code: str
    queue_number: int
    phone: str
    date: date
    valid_until: date
    packs: int
    fulfilment: str
    slot_start: time | None = None
    slot_end: time | None = None
    code: str = ""


def insert_rows(
    model: type[models.Model],
    *,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: dict[str, Any] | None = None,
    using: str = "default",
) -> None:
    """INSERT ``rows`` (values for ``columns``, attnames) plus constant/default columns."""
    if not rows:
        return
    conn = connections[using]
    ops = conn.ops
    constants = constants or {}
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
    fixed_names, fixed_values = [], []
    for name, field in fields.items():
        if name in columns:
            continue
        value = constants[name] if name in constants else field.get_default()
        fixed_names.append(name)
        fixed_values.append(field.get_db_prep_save(value, conn))
    adapters = [_adapter(fields[name], conn) for name in columns]
    names = ", ".join(ops.quote_name(fields[n].column) for n in [*columns, *fixed_names])
    # Identifiers come from the model's metadata (quoted); values are parameters.
    table = ops.quote_name(model._meta.db_table)
    row_sql = "(" + ", ".join(["%s"] * (len(columns) + len(fixed_names))) + ")"
    fixed = tuple(fixed_values)
    prepared = [
        tuple(adapt(value) if adapt else value for adapt, value in zip(adapters, row, strict=True))
        + fixed
        for row in rows
    ]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            # COPY streams the rows in one command (no per-statement parsing).
            raw = cursor.cursor
            with (
                conn.wrap_database_errors,  # psycopg errors → django.db errors
                raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in prepared:
                    copy.write_row(row)
        else:  # SQLite: in-process, executemany of one prepared statement is fastest
            sql = f"INSERT INTO {table} ({names}) VALUES {row_sql}"  # noqa: S608
            for i in range(0, len(prepared), _CHUNK):
                cursor.executemany(sql, prepared[i : i + _CHUNK])


def _adapter(field: models.Field, conn):
    ops = conn.ops
    if isinstance(field, models.JSONField):
        return lambda value: json.dumps(value, ensure_ascii=False)
    if isinstance(field, models.DateTimeField):
        return lambda value: ops.adapt_datetimefield_value(value) if value is not None else None
    if isinstance(field, models.DateField):
        return lambda value: ops.adapt_datefield_value(value) if value is not None else None
    if isinstance(field, models.TimeField):
        return lambda value: ops.adapt_timefield_value(value) if value is not None else None
    return None
