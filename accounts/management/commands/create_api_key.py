from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for USERNAME and print it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="created by an operator")

    def handle(self, *, username, label, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named “{username}”.")
        if len(label) > 100:
            raise CommandError("The label is longer than 100 characters.")
        _, raw_key = ApiKey.create_for(user=user, label=label)
        self.stderr.write(f"API key for {username} ({label}):")
        self.stdout.write(raw_key)
