"""The one exception the rules raise when they refuse an action."""


class Refused(Exception):
    """An action was refused; the message is shown to the person who tried it."""

    def __init__(self, message, status: int = 400):
        super().__init__(str(message))
        self.message = str(message)
        self.status = status
