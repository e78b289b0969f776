from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from teams.models import Entity
from teams.services import TeamError


class TeamCommand(BaseCommand):
    """Operator commands: the result is the last line of output; bad input is a clear error
    and exit code 1."""

    def handle(self, *args, **options):
        try:
            result = self.run(**options)
        except TeamError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(result))

    def run(self, **options):
        raise NotImplementedError

    @staticmethod
    def get_user(username):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named “{username}”.")
        return user

    @staticmethod
    def get_team(name):
        team = Entity.objects.filter(name=name, kind=Entity.Kind.TEAM).first()
        if team is None:
            raise CommandError(f"No team named “{name}”.")
        return team
