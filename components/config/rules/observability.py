"""Rules of ``mlops:observability``: receivers have what they need; prod pages someone."""

from __future__ import annotations

from ..model import EnvironmentConfig, Profile
from .problem import Problem


def observability_settings(config: EnvironmentConfig) -> list[Problem]:
    """Receivers have what they need, prod pages someone, AMP names its region."""
    obs = config.observability
    problems: list[Problem] = []
    receivers = [str(r) for r in obs.receivers]
    if len(set(receivers)) != len(receivers):
        problems.append(
            Problem(("observability", "receivers"), receivers, "list each receiver type once")
        )
    if "webhook" in receivers and not obs.webhook_url:
        problems.append(
            Problem(
                ("observability", "webhookUrl"),
                None,
                "required with the webhook receiver; set it as a secret: pulumi config set "
                "--secret --path mlops:observability.webhookUrl <https-url>",
            )
        )
    if obs.webhook_url and "webhook" not in receivers:
        problems.append(
            Problem(
                ("observability", "webhookUrl"),
                "[secret]",
                "has no effect without the webhook receiver in observability.receivers",
            )
        )
    if config.profile is Profile.PROD and not receivers:
        problems.append(
            Problem(
                ("observability", "receivers"),
                [],
                "prod alerts must reach someone: add sns and/or webhook",
            )
        )
    if obs.amp.enabled and obs.amp.region is None:
        problems.append(
            Problem(
                ("observability", "amp", "region"),
                None,
                "required when amp.enabled is true: the region of the Amazon Managed "
                "Prometheus workspace, e.g. " + config.region,
            )
        )
    return problems
