"""The one error the analytics raise for bad input: it lists every problem found, not just the first."""

from __future__ import annotations


class AnalyticsInputError(ValueError):
    """Input that the analytics cannot use: unknown material, year outside the data, negative or zero
    production, missing governance or trade rows where they are required. ``problems`` holds every one."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.what = what
        self.problems = problems
        head = f"{what}: " + "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(head + more)
