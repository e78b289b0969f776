import factory

from alerts.models import AlertRule
from alerts.services import alert_rule_save


class AlertRuleFactory(factory.django.DjangoModelFactory):
    """A rule stored as the service stores it (checked first); pass project and kind."""

    class Meta:
        model = AlertRule

    name = factory.Sequence(lambda n: f"rule {n}")
    metric = "loss"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return alert_rule_save(rule=model_class(*args, **kwargs))
