import logging
import sqlite3

from django.db import connection
from django.http import JsonResponse
from django.views.defaults import bad_request

logger = logging.getLogger(__name__)


class SQLiteOptimizeMiddleware:
    """Keep SQLite's planner statistics current.

    Without ANALYZE statistics SQLite may read a project's runs through an unrelated index, in
    random order, and a filtered runs table takes three times as long. Nothing else runs ANALYZE,
    so, as SQLite recommends, each connection ends with `PRAGMA optimize`: it analyzes only the
    tables this connection's queries used whose statistics are missing or stale (bounded by
    `analysis_limit` in the connection options), and is a no-op otherwise.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Only on a connection this request left open, and outside a transaction; straight on
        # the sqlite3 connection, since this is upkeep, not one of the request's queries.
        if connection.connection is not None and not connection.in_atomic_block:
            try:
                connection.connection.execute("PRAGMA optimize")
            except sqlite3.OperationalError as error:
                # Upkeep, never worth failing a request for: when another request holds the
                # write lock, the next one analyzes instead.
                logger.info("PRAGMA optimize skipped: %s", error)
        return response


# Paths whose clients read JSON errors: the wandb client and scripts.
MACHINE_PATHS = ("/api/", "/graphql", "/files/", "/storage/")
NUL = "\x00"


class NulCharacterMiddleware:
    """Refuse a NUL character (%00) in the path or the query string with a 400: PostgreSQL can
    neither store nor compare one, so any lookup with it would fail as a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or any(
            NUL in key or any(NUL in value for value in values)
            for key, values in request.GET.lists()
        ):
            message = "The address holds a NUL character (%00)."
            if request.path.startswith(MACHINE_PATHS):
                return JsonResponse(
                    {"detail": message, "errors": [{"message": message}]}, status=400
                )
            return bad_request(request, ValueError(message))
        return self.get_response(request)
