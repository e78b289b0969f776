from django.apps import AppConfig
from django.core import checks

from teamsite.lib.secretbox import check_keys


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        # Webhooks' addresses and secrets are the encrypted secrets this app keeps.
        checks.register(check_keys)
