"""Type tokens of the public components, in Pulumi's package convention.

A component package's resources are ``<package>:index:<Name>`` (the token the SDK's component
provider host derives from a class name), so every public component registers
``mlops:index:<Name>``. Stacks created before 0.2.0 hold the components under
``mlops:<module>:<Name>``; :func:`component_options` adds that old token as an alias, so an
existing stack moves its components (and, through the engine's alias inheritance, every child
below them) instead of replacing them. See docs/upgrades/0.2.0.md.
"""

from __future__ import annotations

import pulumi

PACKAGE = "mlops"
"""The Pulumi package name of the component library (``pulumi package add`` names it so)."""

MODULE = "index"
"""The one module of the package: the provider host puts every type in ``index``."""


def component_token(name: str) -> str:
    """``mlops:index:<name>``: the type token of the public component class ``name``."""
    return f"{PACKAGE}:{MODULE}:{name}"


def legacy_token(module: str, name: str) -> str:
    """The pre-0.2.0 token ``mlops:<module>:<name>``."""
    return f"{PACKAGE}:{module}:{name}"


def component_options(
    legacy_module: str, name: str, opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions:
    """``opts`` plus an alias from the component's pre-0.2.0 token, so upgrading moves it."""
    alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=legacy_token(legacy_module, name))])
    return pulumi.ResourceOptions.merge(opts, alias)
