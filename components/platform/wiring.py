"""How the composition hands the validated configuration to the components.

Every config key that means the same as a component argument has the argument's name, so a
section reaches its component as it is: enums as enums, each value written once. What differs
(a name, a shape, a value the composition computes) is mapped by the caller, which names the
keys it handles itself; a key neither passed on nor handled is an error, so no setting is lost
on the way. A value that is unset (``None``) leaves the component's own default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi
from pydantic import BaseModel

if TYPE_CHECKING:
    from ..cluster.serving_cluster import ServingCluster

Args = TypeVar("Args")


def straight_through(
    args_type: Callable[..., Args],
    section: BaseModel,
    *,
    handled: Collection[str] = (),
    **explicit: Any,
) -> Args:
    """``args_type`` built from ``section``'s keys under the same names, then ``explicit``.

    ``handled`` names the section's keys the caller maps itself (or only decides with);
    any other key that is no argument of ``args_type`` raises ``TypeError``.
    """
    return _built(args_type, _section_values(args_type, section, handled) | explicit)


def _section_values(
    args_type: Callable[..., Any], section: BaseModel, handled: Collection[str]
) -> dict[str, Any]:
    arguments = _arguments(args_type)
    keys = type(section).model_fields
    dropped = sorted(set(keys) - arguments - set(handled))
    if dropped:
        raise TypeError(
            f"{type(section).__name__} keys {dropped} reach no argument of "
            f"{getattr(args_type, '__name__', args_type)}: pass them on or handle them"
        )
    return {key: getattr(section, key) for key in keys if key in arguments and key not in handled}


def _built(args_type: Callable[..., Args], values: dict[str, Any]) -> Args:
    """The args, with every unset value left to the component's default."""
    return args_type(**{name: value for name, value in values.items() if value is not None})


def _arguments(args_type: Callable[..., Any]) -> set[str]:
    return {field.name for field in dataclasses.fields(args_type)}  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Wiring:
    """What every component of the platform is built with.

    Each component takes those of these values it has an argument for: the physical-name
    prefix, the tags (the second tag layer), whether stateful resources are protected, the
    permission boundary of every role, the log retention, and, once the cluster exists, the
    cluster's name, ARN and Kubernetes provider.
    """

    name_prefix: str
    tags: dict[str, str]
    protect: bool
    log_retention_days: int
    aws_opts: pulumi.ResourceOptions
    """Options of AWS children: parented to the platform, on its AWS provider."""

    k8s_opts: pulumi.ResourceOptions
    """Options of Kubernetes children: on the cluster's provider, after the cluster is ready
    (until the cluster exists, the AWS options)."""

    permission_boundary_arn: pulumi.Output[str] | None = None
    """Known once PlatformIam exists (it may create the boundary)."""

    cluster: ServingCluster | None = None
    """The cluster Kubernetes children run on (phase 2 only)."""

    def args(
        self,
        args_type: Callable[..., Args],
        section: BaseModel | None = None,
        *,
        handled: Collection[str] = (),
        **explicit: Any,
    ) -> Args:
        """``args_type`` for one component: the platform-wide values it takes, then the
        ``section`` passed straight through (see :func:`straight_through`), then
        ``explicit``."""
        arguments = _arguments(args_type)
        values = {name: value for name, value in self._shared().items() if name in arguments}
        if section is not None:
            values |= _section_values(args_type, section, handled)
        return _built(args_type, values | explicit)

    def _shared(self) -> dict[str, Any]:
        shared: dict[str, Any] = {
            "name_prefix": self.name_prefix,
            "tags": self.tags,
            "protect": self.protect,
            "log_retention_days": self.log_retention_days,
            "permission_boundary_arn": self.permission_boundary_arn,
        }
        if self.cluster is not None:
            shared |= {
                "cluster_name": self.cluster.cluster_name,
                "cluster_arn": self.cluster.cluster_arn,
                "kubernetes_provider": self.cluster.kubernetes_provider,
            }
        return shared
