"""Keeping PointTile rows (each span's lowest and highest value) up to date as points arrive."""

import json

from django.db import connection

from .models import PointTile


def tiles_of(points) -> dict:
    """(key id, width, tile) -> [min step, min value, max step, max value] of (key id, step,
    value) points, NaN (None) left out. Each width is folded from the one below it."""
    finest, *coarser = PointTile.WIDTHS
    tiles = {}
    for key_id, step, value in points:
        if value is None:
            continue
        index = (key_id, finest, step // finest)
        tile = tiles.get(index)
        if tile is None:
            tiles[index] = [step, value, step, value]
            continue
        _merge(tile, step, value, step, value)
    level = [(index, tile) for index, tile in tiles.items()]
    for width in coarser:
        next_level = {}
        for (key_id, _, _), (min_step, min_value, max_step, max_value) in level:
            index = (key_id, width, min_step // width)
            tile = next_level.get(index)
            if tile is None:
                next_level[index] = [min_step, min_value, max_step, max_value]
            else:
                _merge(tile, min_step, min_value, max_step, max_value)
        tiles.update(next_level)
        level = list(next_level.items())
    return tiles


def _merge(tile, min_step, min_value, max_step, max_value):
    # Ties go to the earlier step, so the result does not depend on arrival order.
    if min_value < tile[1] or (min_value == tile[1] and min_step < tile[0]):
        tile[0], tile[1] = min_step, min_value
    if max_value > tile[3] or (max_value == tile[3] and max_step < tile[2]):
        tile[2], tile[3] = max_step, max_value


def _merge_sql(table: str) -> str:
    def keep(new, old, better):
        return (
            f"CASE WHEN excluded.{new}_value {better} {table}.{new}_value OR "
            f"(excluded.{new}_value = {table}.{new}_value AND excluded.{new}_step < "
            f"{table}.{new}_step) THEN excluded.{old} ELSE {table}.{old} END"
        )

    return (
        "ON CONFLICT (run_id, width, key_id, tile) DO UPDATE SET "
        f"min_step = {keep('min', 'min_step', '<')}, "
        f"min_value = {keep('min', 'min_value', '<')}, "
        f"max_step = {keep('max', 'max_step', '>')}, "
        f"max_value = {keep('max', 'max_value', '>')}"
    )


def pg_array(values) -> str:
    """A PostgreSQL array literal of numbers (None for NULL): one text parameter, which the
    driver passes as it is, where a list would be adapted element by element."""
    return "{" + json.dumps(list(values))[1:-1].replace("null", "NULL") + "}"


def write_tiles(run_id: int, points) -> None:
    """Merge the tiles of these points into the stored ones (replays change nothing)."""
    tiles = tiles_of(points)
    if not tiles:
        return
    table = connection.ops.quote_name(PointTile._meta.db_table)
    columns = "(run_id, key_id, width, tile, min_step, min_value, max_step, max_value)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            keys, rows = zip(*tiles.items(), strict=True)
            key_ids, widths, indexes = zip(*keys, strict=True)
            min_steps, min_values, max_steps, max_values = zip(*rows, strict=True)
            cursor.execute(
                f"INSERT INTO {table} {columns} "
                "SELECT %s, k, w, t, a, b, c, d FROM unnest(%s::bigint[], %s::integer[], "
                "%s::bigint[], %s::bigint[], %s::double precision[], %s::bigint[], "
                "%s::double precision[]) AS u(k, w, t, a, b, c, d) " + _merge_sql(table),
                [
                    run_id,
                    *(
                        pg_array(column)
                        for column in (
                            key_ids,
                            widths,
                            indexes,
                            min_steps,
                            min_values,
                            max_steps,
                            max_values,
                        )
                    ),
                ],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} {columns} VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                + _merge_sql(table),
                [(run_id, *key, *tile) for key, tile in tiles.items()],
            )
