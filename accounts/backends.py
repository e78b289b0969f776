from allauth.account.auth_backends import AuthenticationBackend


class HumanAuthenticationBackend(AuthenticationBackend):
    """Password sign-in (site and admin) for people only: service accounts use API keys."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_service", False)
