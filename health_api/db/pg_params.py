"""How rows travel to PostgreSQL in bulk: as array parameters expanded with
``unnest`` (for statements that need SQL around the rows: upserts, joined
updates) or by binary ``COPY`` (plain inserts). Used by ``bulk`` only.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Sequence

from sqlalchemy import Connection, Table

Row = Sequence


def pg_types(conn: Connection, table: Table, columns: Sequence[str]) -> list[str]:
    return [table.c[c].type.compile(dialect=conn.dialect) for c in columns]


#: how plain values of these types are written in a PostgreSQL array literal
_PG_ARRAY_TEXT = {int: int.__repr__, float: float.__repr__, dt.date: dt.date.isoformat}


def pg_array(values: list, sql_type: str) -> tuple[str, tuple]:
    """An array parameter: its SQL (``%s`` placeholders cast to ``sql_type[]``)
    and its parameters.

    psycopg dumps a list element by element in Python (about 0.6 us each,
    tens of milliseconds per 10,000-row statement); so a column of one
    repeated value is sent once and repeated by the server (``array_fill``),
    and a column of plain ints, finite floats or dates as one text literal
    joined in C. Anything else (strings, NULLs, bools, datetimes) goes as
    a list in binary."""
    if values and values.count(values[0]) == len(values) and values[0] is not None:
        return f"array_fill(%b::{sql_type}, ARRAY[%b::int])", (values[0], len(values))
    kinds = set(map(type, values))
    if len(kinds) == 1:
        kind = kinds.pop()
        text = _PG_ARRAY_TEXT.get(kind)
        if text is not None and (kind is not float or all(map(math.isfinite, values))):
            return f"%s::{sql_type}[]", ("{" + ",".join(map(text, values)) + "}",)
    return f"%b::{sql_type}[]", (values,)


def pg_unnest(conn: Connection, table: Table, columns: Sequence[str],
               rows: Sequence[Row]) -> tuple[str, list]:
    """``SELECT * FROM unnest(array1, ...)`` and its parameters."""
    columns_values = [list(col) for col in zip(*rows)] if rows else [[] for _ in columns]
    return pg_unnest_arrays(columns_values, pg_types(conn, table, columns))


def pg_arrays(columns_values: Sequence[list], sql_types: Sequence[str]
              ) -> list[tuple[str, tuple]]:
    """``pg_array`` of each column."""
    return [pg_array(values, sql_type) for values, sql_type in zip(columns_values, sql_types)]


def pg_unnest_of(arrays: Sequence[tuple[str, tuple]]) -> tuple[str, list]:
    """``SELECT * FROM unnest(...)`` of arrays from ``pg_arrays``, and its parameters."""
    params = [param for _sql, array_params in arrays for param in array_params]
    return f"SELECT * FROM unnest({', '.join(sql for sql, _params in arrays)})", params


def pg_unnest_arrays(columns_values: Sequence[list], sql_types: Sequence[str]
                     ) -> tuple[str, list]:
    return pg_unnest_of(pg_arrays(columns_values, sql_types))


#: type names psycopg's COPY knows, for the compiled names it does not
_PG_COPY_TYPE_ALIASES = {"float": "float8"}


def pg_copy(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row],
             target: str) -> None:
    """Binary COPY into ``target`` inside the connection's transaction."""
    types = []
    for compiled in pg_types(conn, table, columns):
        name = compiled.split("(")[0].strip().lower()
        types.append(_PG_COPY_TYPE_ALIASES.get(name, name))
    with conn.connection.cursor() as cursor:
        with cursor.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for row in rows:
                write_row(row)
