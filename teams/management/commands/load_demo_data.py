from django.db import transaction

from teams import services
from teams.models import Entity, Role

from ._base import TeamCommand

DEMO_PASSWORD = "teamsite-demo"
TEAM = "example-team"


class Command(TeamCommand):
    help = "Load demo data: a team, two people and a pending invitation. Safe to run again."

    @transaction.atomic
    def run(self, **options):
        if Entity.objects.filter(name=TEAM).exists():
            return f"Demo data already loaded: sign in as alice or bob, password {DEMO_PASSWORD}"
        alice = services.user_create(
            username="alice", email="alice@example.com", password=DEMO_PASSWORD
        )
        alice.first_name, alice.last_name = "Alice", "Admin"
        alice.is_staff = alice.is_superuser = True
        alice.save()
        bob = services.user_create(username="bob", email="bob@example.com", password=DEMO_PASSWORD)
        bob.first_name, bob.last_name = "Bob", "Member"
        bob.save()
        team = services.team_create(name=TEAM, creator=alice)
        services.membership_add(entity=team, user=bob, role=Role.MEMBER)
        _, link = services.invitation_create(
            entity=team, inviter=alice, email="carol@example.com", role=Role.MEMBER
        )
        self.stdout.write(f"Team {team.name}: alice (admin, also site admin) and bob (member).")
        self.stdout.write(f"Pending invitation for carol@example.com: {link}")
        return f"Sign in at /accounts/login/ as alice or bob with the password {DEMO_PASSWORD}"
