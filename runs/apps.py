from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"

    def ready(self):
        from projects.services import PURGE_STEPS

        from .stored_bytes import forget_project_runs

        if forget_project_runs not in PURGE_STEPS:
            PURGE_STEPS.append(forget_project_runs)
