"""factory-boy factories. People, teams and memberships are made through the services, so
their object permissions are exactly what the site would grant."""

import factory

from accounts.models import ApiKey
from projects.services import project_create
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


class ProjectFactory(factory.Factory):
    """A project made through projects.services.project_create (so it is audited and its
    visibility follows the team's privacy); `creator` must be able to write to `entity`."""

    class Meta:
        model = dict

    entity = None
    creator = None
    name = factory.Sequence(lambda n: f"project-{n}")
    description = ""
    visibility = "team"

    @classmethod
    def _create(cls, model_class, *, entity, creator, **kwargs):
        return project_create(entity=entity, creator=creator, **kwargs)


class RunFactory(factory.django.DjangoModelFactory):
    """A run row as the API would leave it; use `RunFactory.build_batch` + `bulk_create` for
    many."""

    class Meta:
        model = "runs.Run"

    project = None
    run_id = factory.Sequence(lambda n: f"run{n:06d}")
    name = factory.LazyAttribute(lambda o: f"name-{o.run_id}")
    author = None
    state = "finished"
    config = factory.LazyFunction(dict)
    summary = factory.LazyFunction(dict)
    tags = factory.LazyFunction(list)


def api_key_for(user, label="tests") -> str:
    """A new API key of `user`, raw (as a script would hold it)."""
    return ApiKey.create_for(user=user, label=label)[1]
