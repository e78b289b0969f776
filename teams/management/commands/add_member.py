from teams import services
from teams.models import Role

from ._base import TeamCommand


class Command(TeamCommand):
    help = "Add a person to a team (it becomes their default entity)."

    def add_arguments(self, parser):
        parser.add_argument("team")
        parser.add_argument("username")
        parser.add_argument(
            "--role", choices=[role for role, _ in Role.human_choices()], default=Role.MEMBER
        )

    def run(self, *, team, username, role, **options):
        membership = services.membership_add(
            entity=self.get_team(team), user=self.get_user(username), role=role
        )
        return f"Added {membership.user.username} to {membership.entity.name} as {membership.role}"
