"""Each log record is written once, whatever the logger: Django's own loggers go through the
root handler only."""

import logging


def handlers_on_the_way(name: str) -> list[logging.Handler]:
    logger = logging.getLogger(name)
    found = []
    while logger is not None:
        found += logger.handlers
        logger = logger.parent if logger.propagate else None
    return found


def test_a_request_warning_reaches_one_console_handler(settings):
    settings.DEBUG = True  # Django's own console handler writes only then
    record = logging.makeLogRecord({"name": "django.request", "levelno": logging.WARNING})
    writing = [
        handler
        for handler in handlers_on_the_way("django.request")
        # type(), not isinstance(): the test runner adds file and capture handlers of its own.
        if type(handler) is logging.StreamHandler and handler.filter(record)
    ]

    assert len(writing) == 1
