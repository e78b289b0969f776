import factory
from django.utils import timezone

from alerts.models import AlertDelivery, AlertEvent, AlertRule
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


class AlertEventFactory(factory.django.DjangoModelFactory):
    """An alert that fired for `run` (pass it), from a rule named `rule_name`."""

    class Meta:
        model = AlertEvent

    project = factory.LazyAttribute(lambda o: o.run.project)
    rule_name = "loss too high"
    level = AlertEvent.Level.WARN
    message = factory.Sequence(lambda n: f"loss is {n + 2}")


class InAppNotificationFactory(factory.django.DjangoModelFactory):
    """An alert under `user`'s bell (pass user and event), as delivery makes it: sent when
    made, unread."""

    class Meta:
        model = AlertDelivery

    channel = AlertDelivery.Channel.IN_APP
    status = AlertDelivery.Status.SENT
    sent_at = factory.LazyFunction(timezone.now)
