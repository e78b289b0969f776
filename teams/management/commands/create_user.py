from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email

from teams import services

from ._base import TeamCommand


class Command(TeamCommand):
    help = "Create a person with a verified email address and a personal entity."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="Without it the user sets one by password reset.")

    def run(self, *, username, email, password, **options):
        try:
            validate_email(email)
            if password:
                validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        user = services.user_create(username=username.lower(), email=email, password=password)
        return f"Created user {user.username} <{user.email}>"
