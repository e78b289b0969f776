from teams import services

from ._base import TeamCommand


class Command(TeamCommand):
    help = "Create a team with USERNAME as its admin."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--admin", required=True, metavar="USERNAME")

    def run(self, *, name, admin, **options):
        team = services.team_create(name=name.lower(), creator=self.get_user(admin))
        return f"Created team {team.name} with admin {admin}"
