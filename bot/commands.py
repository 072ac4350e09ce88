"""What every slash command's parser shares."""

from __future__ import annotations


class CommandError(Exception):
    """Unparseable command text; `help` is what the user should read."""

    def __init__(self, message: str, help: str) -> None:
        super().__init__(message)
        self.message = message
        self.help = help
