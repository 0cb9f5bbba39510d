"""Container image references: what "pinned by digest in the environment's ECR" means.

Written once here; :class:`mlops_platform.serving.ModelEndpoint` validates its images with
:func:`ecr_digest_problem` and the policy pack's serving rules call the same function, so a
component and a rule never disagree about an image.
"""

from __future__ import annotations

import re

ECR_DIGEST_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d)"
    r"\.amazonaws\.com(\.cn)?/(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"@sha256:(?P<digest>[0-9a-f]{64})$"
)
"""A private ECR image pinned by digest (:data:`ECR_DIGEST_FORM`)."""

ECR_DIGEST_FORM = "<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>"
"""How :data:`ECR_DIGEST_IMAGE` reads, for messages."""


def ecr_digest_problem(image: object, accounts: tuple[str, ...] | list[str] = ()) -> str | None:
    """Why ``image`` is not a digest-pinned private ECR image (of one of ``accounts`` when
    given), or ``None`` when it is."""
    if not isinstance(image, str) or not image:
        return f"an image reference of the form {ECR_DIGEST_FORM}"
    match = ECR_DIGEST_IMAGE.fullmatch(image)
    if match is None:
        if "@sha256:" not in image:
            return f"not pinned by digest: use {ECR_DIGEST_FORM} (a tag can be moved)"
        return f"not a private ECR image pinned by digest: use {ECR_DIGEST_FORM}"
    if accounts and match.group("account") not in accounts:
        return (
            f"ECR account {match.group('account')} is not an allowed account "
            f"({', '.join(accounts)})"
        )
    return None
