"""The database cache, with an increment that several processes can share."""

import base64
import pickle

from django.core.cache.backends import db
from django.db import connections, models, router, transaction
from django.utils.timezone import now


class DatabaseCache(db.DatabaseCache):
    """Django's database cache whose `incr()` is atomic and keeps the entry's expiry, as Redis'
    INCR does.

    Django's own `incr()` is a `get()` then a `set()`: two processes can both read 4 and both
    write 5, and the `set()` moves the expiry to the default timeout, so a counter meant to last
    a minute would last five. Here the read and the write are one transaction holding the row:
    `SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the settings open every transaction with
    BEGIN IMMEDIATE, which takes the database's write lock before the read.
    """

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        cache_key, value_column = quote_name("cache_key"), quote_name("value")
        expires = quote_name("expires")
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_column}, {expires} FROM {table} WHERE {cache_key} = %s{lock}",
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._expires_at(connection, row[1]) < now():
                raise ValueError(f"Key '{key}' not found")
            stored = connection.ops.process_clob(row[0])
            value = pickle.loads(base64.b64decode(stored.encode(), validate=True)) + delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_column} = %s WHERE {cache_key} = %s", [encoded, key]
            )
        return value

    @staticmethod
    def _expires_at(connection, value):
        # As DatabaseCache.get_many reads it: aware or naive, as the database stores it.
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression)
        for converter in converters + expression.get_db_converters(connection):
            value = converter(value, expression, connection)
        return value
