"""The one error type the CLI shows to an operator: what went wrong, and the next step."""


class AxeError(Exception):
    def __init__(self, message: str, next_step: str | None = None, exit_code: int = 2):
        super().__init__(message)
        self.message = message
        self.next_step = next_step
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message + (f"\n  next: {self.next_step}" if self.next_step else "")
