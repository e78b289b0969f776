from django.apps import AppConfig


class ArtifactsConfig(AppConfig):
    name = "artifacts"

    def ready(self):
        from projects.services import PURGE_STEPS
        from runs.services import MOVE_STEPS

        from .moves import move_logged_versions
        from .stored_bytes import forget_project_artifacts

        if move_logged_versions not in MOVE_STEPS:
            MOVE_STEPS.append(move_logged_versions)
        if forget_project_artifacts not in PURGE_STEPS:
            PURGE_STEPS.append(forget_project_artifacts)
