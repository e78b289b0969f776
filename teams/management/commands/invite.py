from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email

from teams import services
from teams.models import Role

from ._base import TeamCommand


class Command(TeamCommand):
    help = "Invite EMAIL to TEAM; emails the link and prints it."

    def add_arguments(self, parser):
        parser.add_argument("team")
        parser.add_argument("email")
        parser.add_argument("--inviter", required=True, metavar="USERNAME")
        parser.add_argument(
            "--role", choices=[role for role, _ in Role.human_choices()], default=Role.MEMBER
        )

    def run(self, *, team, email, inviter, role, **options):
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"“{email}” is not an email address.") from error
        _, link = services.invitation_create(
            entity=self.get_team(team), inviter=self.get_user(inviter), email=email, role=role
        )
        return link
