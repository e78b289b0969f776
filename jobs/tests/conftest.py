import pytest

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks(settings):
    """Tasks wait in the database for a worker, as in production."""
    settings.TASKS = DATABASE_BACKEND
