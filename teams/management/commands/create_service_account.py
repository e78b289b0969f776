from teams import services

from ._base import TeamCommand


class Command(TeamCommand):
    help = "Create a service account of TEAM; prints its API key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("team")
        parser.add_argument("name")

    def run(self, *, team, name, **options):
        _, raw_key = services.service_account_create(entity=self.get_team(team), name=name.lower())
        self.stderr.write(f"Created service account {name} of {team}. Its API key:")
        return raw_key
