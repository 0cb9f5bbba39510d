"""What every section of the stack configuration is built from: the strict base model and
the value types several sections share."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ...core import patterns
from ...core.limits import KMS_DELETION_WINDOW_DAYS, first_problem, retention_problems
from ...core.versions import SUPPORTED_KUBERNETES_VERSIONS


class StrictModel(BaseModel):
    """A section of the stack configuration: camelCase keys, unknown keys refused, nothing
    coerced (``"3"`` is not an integer), frozen once validated."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
    )


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"not an IPv4 CIDR block with its host bits zero ({exc}); e.g. 10.20.0.0/16"
        ) from None
    return str(network)


def _retention(value: int) -> int:
    problem = first_problem(retention_problems("", value))
    if problem:
        raise ValueError(problem)
    return value


def _kubernetes_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise ValueError(
            "not a supported EKS version; allowed: " + ", ".join(SUPPORTED_KUBERNETES_VERSIONS)
        )
    return value


Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
KmsDeletionWindowDays = Annotated[
    int, Field(ge=KMS_DELETION_WINDOW_DAYS[0], le=KMS_DELETION_WINDOW_DAYS[1])
]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
NonNegative = Annotated[int, Field(ge=0)]
Region = Annotated[str, Field(pattern=patterns.REGION.regex)]
SubnetId = Annotated[str, Field(pattern=patterns.SUBNET_ID.regex)]
SecurityGroupId = Annotated[str, Field(pattern=patterns.SECURITY_GROUP_ID.regex)]
RoleArn = Annotated[str, Field(pattern=patterns.IAM_ROLE_ARN.regex)]
HumanPrincipalArn = Annotated[str, Field(pattern=patterns.HUMAN_PRINCIPAL_ARN.regex)]
KubernetesName = Annotated[str, Field(pattern=patterns.DNS_LABEL.regex)]
SemVer = Annotated[str, Field(pattern=patterns.SEMVER.regex)]


class NodeGroupSize(StrictModel):
    """Scaling bounds of a node group."""

    min_size: NonNegative = Field(description="Fewest nodes.")
    desired_size: NonNegative = Field(description="Nodes at creation; autoscaling owns it after.")
    max_size: int = Field(ge=1, description="Most nodes.")


Section = TypeVar("Section", bound=BaseModel)
Defaults = TypeVar("Defaults", bound=BaseModel)


def defaults_of(section: type[Section]) -> Callable[[], Section]:
    """The ``default_factory`` of a section whose keys all have defaults: the section as a
    stack file that leaves it out gets it."""
    return lambda: section.model_validate({})


def with_own_settings(item: BaseModel, defaults: Defaults) -> Defaults:
    """``defaults`` (a section of shared settings, such as ``gpu.poolDefaults``) with each
    setting that ``item`` (one pool, one tenant) sets itself taken from ``item``."""
    own = {
        name: value
        for name in type(defaults).model_fields
        if (value := getattr(item, name)) is not None
    }
    return defaults.model_copy(update=own)
