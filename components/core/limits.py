"""Limits AWS sets on values the platform passes through, and the checks that apply them.

The one home of these facts: component ``validate()`` methods, the stack configuration model
and the policy pack all read them from here, so a limit changes in one place. Each check
returns :class:`~.validation.Invalid` problems naming the argument and what is allowed.
"""

from __future__ import annotations

from typing import Any, Final

from .checks import int_between
from .validation import Invalid

KMS_DELETION_WINDOW_DAYS: Final = (7, 30)
"""Days KMS waits before deleting a key scheduled for deletion (``PendingWindowInDays``)."""

PROD_KMS_DELETION_WINDOW_DAYS: Final = KMS_DELETION_WINDOW_DAYS[1]
"""The window prod keeps: the longest KMS allows, so a mistaken deletion can be cancelled."""

CLOUDWATCH_RETENTION_DAYS: Final[tuple[int, ...]] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
"""The retention periods CloudWatch Logs accepts (``PutRetentionPolicy``)."""

RDS_BACKUP_RETENTION_DAYS: Final = (1, 35)
"""Automated RDS backup retention; 0 (no backups) is refused by the platform."""

PROD_MIN_RDS_BACKUP_DAYS: Final = 7
"""The least backup retention prod accepts (a week of point-in-time recovery)."""


def range_problems(arg: str, value: Any, bounds: tuple[int, int]) -> list[Invalid]:
    """``value`` is not an integer within ``bounds`` (inclusive)."""
    low, high = bounds
    if int_between(value, low, high):
        return []
    return [Invalid(arg, value, f"an integer from {low} to {high}")]


def kms_deletion_window_problems(arg: str, days: Any) -> list[Invalid]:
    """``days`` is not a deletion window KMS accepts."""
    low, high = KMS_DELETION_WINDOW_DAYS
    if int_between(days, low, high):
        return []
    return [Invalid(arg, days, f"KMS waits {low} to {high} days before deleting a key")]


def retention_problems(arg: str, days: Any) -> list[Invalid]:
    """``days`` is not a retention period CloudWatch Logs accepts."""
    if int_between(days, 1, CLOUDWATCH_RETENTION_DAYS[-1]) and days in CLOUDWATCH_RETENTION_DAYS:
        return []
    allowed = ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS))
    return [Invalid(arg, days, "one of CloudWatch's retention periods (days): " + allowed)]


def first_problem(problems: list[Invalid]) -> str | None:
    """What is allowed, for a single-value check outside a component (the config model)."""
    return problems[0].allowed if problems else None
