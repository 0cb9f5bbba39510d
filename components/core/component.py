"""The preamble every public component shares, written once.

A public component subclasses :class:`Component` and names its pre-0.2.0 module::

    class Keda(Component, legacy_module="keda"):
        def __init__(self, name: str, args: KedaArgs, opts=None) -> None:
            args = self.accept(name, args, validate)
            super().__init__(name, opts)
            k8s_opts = self.child(provider=args.kubernetes_provider)

which gives it:

- the type token ``mlops:index:<ClassName>`` with the pre-0.2.0 token
  ``mlops:<legacy_module>:<ClassName>`` as an alias (:mod:`.tokens`);
- :meth:`Component.accept`: the args coerced and validated, every problem raised at once under
  the component's name (:func:`.coercion.accept_args`), before it registers;
- :meth:`Component.child` / :meth:`Component.stateful`: the options of its children
  (``parent=self``; stateful ones protected and retained when asked);
- :attr:`Component.aws`: the account, partition and region its AWS children deploy into,
  each asked of the provider once, and only when first used;
- :attr:`Component.owner`: how a physical-name collision names it (``Keda 'name'``);
- :meth:`Component.publish`: its outputs assigned and registered in one call;
- :meth:`Component.customer_key`: a rotated customer-managed key and its alias.

The class creates nothing itself; subclasses keep the ``(name, args, opts)`` signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any, ClassVar, TypeVar

import pulumi
import pulumi_aws as aws

from .coercion import accept_args
from .naming import NameKind, physical_name
from .tokens import component_options, component_token, legacy_token
from .validation import Invalid

A = TypeVar("A")


class AwsContext:
    """The account, partition and region a component's AWS children deploy into.

    Each is an invoke under the component (so it follows the component's provider), made the
    first time it is read and then reused.
    """

    def __init__(self, parent: pulumi.Resource) -> None:
        self._invoke = pulumi.InvokeOptions(parent=parent)

    @cached_property
    def account(self) -> pulumi.Output[str]:
        """The account ID (``sts:GetCallerIdentity``)."""
        return aws.get_caller_identity_output(opts=self._invoke).account_id

    @cached_property
    def partition(self) -> pulumi.Output[str]:
        """The partition (``aws``, ``aws-us-gov``, ``aws-cn``)."""
        return aws.get_partition_output(opts=self._invoke).partition

    @cached_property
    def region(self) -> pulumi.Output[str]:
        """The region name."""
        return aws.get_region_output(opts=self._invoke).region

    @property
    def root_arn(self) -> pulumi.Output[str]:
        """``arn:<partition>:iam::<account>:root``: the account as a policy principal."""
        return pulumi.Output.concat("arn:", self.partition, ":iam::", self.account, ":root")

    def arn(self, service: str, resource: str) -> pulumi.Output[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        return pulumi.Output.concat(
            "arn:", self.partition, f":{service}:", self.region, ":", self.account, f":{resource}"
        )


class Component(pulumi.ComponentResource):
    """Base of the public components: see the module docstring."""

    _type_name: ClassVar[str]
    _legacy_module: ClassVar[str]

    def __init_subclass__(cls, *, legacy_module: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if legacy_module is not None:
            # The class that names a legacy module is the public type; subclasses made from it
            # (the provider host's hostable classes) keep its token.
            cls._type_name = cls.__name__
            cls._legacy_module = legacy_module

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(
            component_token(self._type_name),
            name,
            None,
            component_options(self._legacy_module, self._type_name, opts),
        )
        self._component_name = name

    @classmethod
    def type_token(cls) -> str:
        """``mlops:index:<Name>``."""
        return component_token(cls._type_name)

    @classmethod
    def legacy_type_token(cls) -> str:
        """``mlops:<legacy_module>:<Name>``: the pre-0.2.0 token, registered as an alias."""
        return legacy_token(cls._legacy_module, cls._type_name)

    @property
    def owner(self) -> str:
        """How a physical-name collision names this component (:func:`.naming.claim_name`)."""
        return f"{self._type_name} '{self._component_name}'"

    @classmethod
    def accept(
        cls, name: str, args: A, validate: Callable[[A], Iterable[Invalid]] | None = None
    ) -> A:
        """``args`` coerced and validated; every problem raised at once, naming the component.
        Called before ``super().__init__``, so bad input registers nothing."""
        return accept_args(cls._type_name, name, args, validate)

    def child(self, **options: Any) -> pulumi.ResourceOptions:
        """Options of a child: ``parent=self`` plus ``options`` (provider, depends_on...)."""
        return pulumi.ResourceOptions(parent=self, **options)

    def stateful(self, protect: bool, **options: Any) -> pulumi.ResourceOptions:
        """Options of a child that holds state: protected and retained on delete when
        ``protect`` is true."""
        return pulumi.ResourceOptions(
            parent=self, protect=protect, retain_on_delete=protect, **options
        )

    def publish(self, **outputs: Any) -> None:
        """Assign each output to its attribute (annotated on the class) and register them all,
        under the same names."""
        for key, value in outputs.items():
            setattr(self, key, value)
        self.register_outputs(outputs)

    def customer_key(
        self,
        resource_name: str,
        *,
        alias: str,
        name_prefix: str,
        description: pulumi.Input[str],
        deletion_window_days: int,
        policy: pulumi.Input[str],
        tags: Mapping[str, str],
        protect: bool,
        **key_args: Any,
    ) -> aws.kms.Key:
        """A customer-managed key with yearly rotation, kept with the component's stateful
        children, and its alias ``alias/{name_prefix}-{alias}`` (resource ``<name>-alias``)."""
        key = aws.kms.Key(
            resource_name,
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=policy,
            tags=dict(tags),
            opts=self.stateful(protect),
            **key_args,
        )
        aws.kms.Alias(
            f"{resource_name}-alias",
            name="alias/" + physical_name(alias, NameKind.KMS_ALIAS, name_prefix, owner=self.owner),
            target_key_id=key.key_id,
            opts=self.child(),
        )
        return key

    @cached_property
    def aws(self) -> AwsContext:
        """Account, partition and region of this component's AWS children (asked lazily)."""
        return AwsContext(self)
