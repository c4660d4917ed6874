"""Errors about bad input, always naming the file, the line and the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class InputProblem:
    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


class InputError(ValueError):
    """Bad input. Carries every problem found (not just the first), each with file, line and field."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        head = str(problems[0]) if problems else "bad input"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(head + more)

    @classmethod
    def one(cls, file: str | Path, line: int | None, field: str | None, message: str) -> InputError:
        return cls([InputProblem(str(file), line, field, message)])

    def report(self, limit: int = 20) -> str:
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more")
        return "\n".join(lines)


class ProblemCollector:
    """Collects problems while parsing so one run reports all of them."""

    def __init__(self, file: str | Path, limit: int = 1000) -> None:
        self.file = str(file)
        self.problems: list[InputProblem] = []
        self.limit = limit

    def add(self, line: int | None, field: str | None, message: str) -> None:
        if len(self.problems) < self.limit:
            self.problems.append(InputProblem(self.file, line, field, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)
