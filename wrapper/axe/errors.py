"""The one error type the CLI shows to an operator: the problem (with its trap id), its details, and the
next step. Errors from the collection's code (ProductError) become one at the CLI's boundary, field by field."""


class AxeError(Exception):
    def __init__(self, message: str, next_step: str | None = None, exit_code: int = 2, trap: str | None = None,
                 details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.next_step = next_step
        self.exit_code = exit_code
        self.trap = trap
        self.details = list(details or [])

    @classmethod
    def from_product(cls, exc) -> "AxeError":
        """A ProductError (plugins/module_utils/validation.py), every field kept."""
        return cls(exc.problem(), exc.next_step, trap=exc.trap, details=exc.details)

    def as_json(self) -> dict:
        return {"error": self.message, "trap": self.trap, "details": self.details, "next": self.next_step}

    def __str__(self) -> str:
        return (self.message + "".join(f"\n  - {d}" for d in self.details)
                + (f"\n  next: {self.next_step}" if self.next_step else ""))
