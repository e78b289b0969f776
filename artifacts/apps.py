from django.apps import AppConfig


class ArtifactsConfig(AppConfig):
    name = "artifacts"

    def ready(self):
        from runs.services import MOVE_STEPS

        from .moves import move_logged_versions

        if move_logged_versions not in MOVE_STEPS:
            MOVE_STEPS.append(move_logged_versions)
