"""factory-boy factories. People, teams and memberships are made through the services, so
their object permissions are exactly what the site would grant."""

import factory

from teams import services
from teams.models import Entity, Role

PASSWORD = "a-long-test-password"


class UserFactory(factory.Factory):
    class Meta:
        model = dict

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.user_create(**kwargs)


class TeamFactory(factory.Factory):
    class Meta:
        model = Entity

    name = factory.Sequence(lambda n: f"team{n}")
    creator = factory.SubFactory(UserFactory)
    is_private = False

    @classmethod
    def _create(cls, model_class, *, name, creator, is_private):
        team = services.team_create(name=name, creator=creator)
        if is_private:
            team = services.entity_set_privacy(entity=team, is_private=True)
        return team


def add_member(team, user, role=Role.MEMBER):
    return services.membership_add(entity=team, user=user, role=role)
