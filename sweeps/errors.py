from projects.services import ProjectError


class SweepError(ProjectError):
    """A sweep request that is refused; nothing was changed. `status` is the HTTP status the
    API answers with (400 bad input, 403 not allowed, 404 unknown); the message is shown as
    it is."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
