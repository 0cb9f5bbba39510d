"""The value shapes the platform accepts, written once: a regular expression, what it means in
words and an example. The configuration model validates with them, the components check
with them, and an error message shows the words and the example, never the expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    """One accepted shape of a string value."""

    regex: str
    """The expression (anchored)."""
    means: str
    """What it accepts, in words."""
    example: str
    """A value it accepts."""

    def matches(self, value: object) -> bool:
        """Whether ``value`` is a string of this shape."""
        return isinstance(value, str) and re.fullmatch(self.regex, value) is not None

    @property
    def allowed(self) -> str:
        """``means``, with the example: the "what is allowed" part of a message."""
        return f"{self.means}, e.g. {self.example}"


EXAMPLE_ACCOUNT_ID = "111111111111"
"""The account ID examples show."""

REGION = Pattern(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", "an AWS region name", "us-east-1")
ACCOUNT_ID = Pattern(r"^\d{12}$", "a 12-digit AWS account ID, quoted", f'"{EXAMPLE_ACCOUNT_ID}"')


def _aws_id(prefix: str, means: str) -> Pattern:
    """An EC2 resource ID: ``prefix-`` and 8 to 17 lowercase hex digits."""
    return Pattern(rf"^{prefix}-[0-9a-f]{{8,17}}$", means, f"{prefix}-0abc12345")


_IAM_ARN = r"^arn:aws[a-z-]*:iam::"
"""The start of an IAM ARN in any partition (``aws``, ``aws-us-gov``, ``aws-cn``)."""


def _iam_arn(rest: str, means: str, example: str) -> Pattern:
    """An IAM ARN: ``rest`` is the expression after ``iam::`` (account, then the resource),
    ``example`` the resource part of an example in the example account."""
    return Pattern(f"{_IAM_ARN}{rest}$", means, f"arn:aws:iam::{EXAMPLE_ACCOUNT_ID}:{example}")


VPC_ID = _aws_id("vpc", "a VPC ID")
SUBNET_ID = _aws_id("subnet", "a subnet ID")
SECURITY_GROUP_ID = _aws_id("sg", "a security group ID")
CAPACITY_RESERVATION_ID = _aws_id("cr", "an EC2 capacity reservation ID")
ADDON_VERSION = Pattern(
    r"^v\d+\.\d+\.\d+-eksbuild\.\d+$", "an EKS add-on build", "v1.21.1-eksbuild.1"
)
CHART_VERSION = Pattern(r"^v?\d+\.\d+\.\d+$", "an exact chart version", "1.12.1")
SEMVER = Pattern(r"^\d+\.\d+\.\d+$", "an exact version MAJOR.MINOR.PATCH", "1.12.1")
IMAGE_TAG = Pattern(r"^v\d+\.\d+\.\d+$", "an exact image tag vMAJOR.MINOR.PATCH", "v1.34.2")
AMI_RELEASE = Pattern(
    r"^1\.\d{2}\.\d+-\d{8}$",
    "an EKS AMI release version KUBERNETES-DATE, quoted",
    '"1.34.2-20260129"',
)
POSTGRES_MAJOR_MINOR = Pattern(
    r"^1[3-9]\.\d+$", "a PostgreSQL MAJOR.MINOR version (13 or later), quoted", '"17.6"'
)
DURATION = Pattern(r"^(\d+h)?(\d+m)?(\d+s)?$", "a duration in hours, minutes, seconds", "1h30m")
DURATION_OR_NEVER = Pattern(
    r"^(Never|(\d+(s|m|h))+)$", "Never, or a duration in hours, minutes, seconds", "720h"
)
DURATION_UNITS = Pattern(r"^(\d+(s|m|h))+$", "a duration in hours, minutes, seconds", "30s")
COUNT_OR_PERCENT = Pattern(r"^\d+%?$", "a count or a percentage", "10%")
HTTPS_URL = Pattern(r"^https://", "an https:// URL", "https://hooks.example.com/alerts")
IAM_ROLE_ARN = _iam_arn(r"\d{12}:role/.+", "an IAM role ARN", "role/platform-admins")
IAM_POLICY_ARN = _iam_arn(r"(\d{12}|aws):policy/.+", "an IAM policy ARN", "policy/boundary")
HUMAN_PRINCIPAL_ARN = _iam_arn(
    r"\d{12}:(role/[\w+=,.@/*-]+|user/[\w+=,.@/-]+)",
    "an IAM role ARN (an SSO permission-set pattern may end in *) or an IAM user ARN",
    "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_*",
)
IAM_PRINCIPAL_ARN = _iam_arn(
    r"\d{12}:(role|root|user)(/.*)?",
    "an IAM role, user or account-root ARN of a named account",
    "role/ci",
)
OIDC_PROVIDER_ARN = _iam_arn(
    r"\d{12}:oidc-provider/.+",
    "an IAM OIDC provider ARN",
    "oidc-provider/token.actions.githubusercontent.com",
)
GITHUB_OIDC_PROVIDER_ARN = _iam_arn(
    r"\d{12}:oidc-provider/token\.actions\.githubusercontent\.com",
    "the ARN of the account's GitHub Actions OIDC provider",
    "oidc-provider/token.actions.githubusercontent.com",
)
GITHUB_REPOSITORY = Pattern(
    r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", "a GitHub repository owner/name", "example-org/ml"
)
GITHUB_ENVIRONMENT = Pattern(r"^[A-Za-z0-9_.-]{1,255}$", "a GitHub environment name", "production")
DNS_LABEL = Pattern(
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
    "a DNS label: lowercase letters, digits and -, at most 63",
    "ml-serving",
)
SHORT_NAME = Pattern(
    r"^[a-z][a-z0-9-]{0,23}$",
    "a short name: a lowercase letter, then letters, digits and -, at most 24",
    "serving",
)
LOG_GROUP_NAME = Pattern(
    r"^[a-z][a-z0-9/_-]{0,62}$",
    "a lowercase name of letters, digits, / _ and -, at most 63",
    "applications",
)
S3_PREFIX = Pattern(r"^([a-z0-9][a-z0-9._-]*/)+$", "an S3 prefix ending in /", "mlflow/artifacts/")
RDS_INSTANCE_CLASS = Pattern(
    r"^db\.[a-z0-9]+\.[a-z0-9]+$", "an RDS instance class", "db.t4g.medium"
)
QUANTITY = Pattern(
    r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$",
    "a Kubernetes quantity: a number with an optional unit (m, Ki, Mi, Gi, Ti, k, M, G, T)",
    "64Gi",
)
MIG_PROFILE = Pattern(r"^(\dg\.\d+gb|balanced)$", "a MIG profile or balanced", "1g.10gb")
KARPENTER_CONSOLIDATION_REASON = Pattern(
    r"^(Empty|Drifted|Underutilized)$", "Empty, Drifted or Underutilized", "Underutilized"
)

ALL: tuple[Pattern, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Pattern))
"""Every named pattern."""

_BY_REGEX = {p.regex: p for p in ALL}


def described(regex: str) -> Pattern | None:
    """The named pattern whose expression is ``regex``, if any."""
    return _BY_REGEX.get(regex)
