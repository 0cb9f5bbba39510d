"""Component input errors, told in the words of the stack configuration.

The composition passes configuration values to the components. When a component refuses
one (a Terraform state that cannot be read, an output of the wrong shape, a value only the
component can judge), its :class:`~mlops_platform.core.validation.ComponentInputError`
names component arguments (``existing.terraform_state.outputs.vpc_id``). The user wrote
YAML keys (``mlops:network.existing.terraformState.outputs.vpcId``), so the composition
turns it into a :class:`ConfigError`: exit 2, the key path, no traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import pulumi

from ..core.validation import ComponentInputError
from .loader import ConfigError
from .model import EnvironmentConfig
from .rules import Path, Problem

SECTIONS: Mapping[str, Path] = {
    "Network": ("network",),
    "ServingCluster": ("cluster",),
    "PlatformIam": ("iam",),
    "GpuNodePool": ("gpu", "pools"),
    "Karpenter": ("gpu",),
    "ClusterAutoscaler": ("gpu",),
    "NvidiaSoftware": ("gpu",),
    "ArtifactStore": ("storage",),
    "ContainerRegistry": ("registry",),
    "ModelRegistry": ("modelRegistry",),
    "Observability": ("observability",),
}
"""Which config section each component is built from (its arguments mirror the keys)."""

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def camel(name: str) -> str:
    """``terraform_state`` -> ``terraformState``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def arg_path(arg: str) -> Path:
    """``existing.terraform_state.outputs.vpc_id`` or ``pools[0].max_size`` as a key path."""
    path: list[str | int] = []
    for segment in arg.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            path.append(segment)
            continue
        path.append(camel(match.group(1)))
        path += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return tuple(path)


def as_config_error(exc: ComponentInputError, config: EnvironmentConfig, stack: str) -> ConfigError:
    """The component's problems as configuration problems of ``stack``."""
    section = SECTIONS.get(exc.component)
    problems = []
    for problem in exc.problems:
        if section is None:
            path: Path = (exc.component, *arg_path(problem.arg))
        elif section == ("gpu", "pools"):
            path = (*section, _pool_index(exc.name, config), *arg_path(problem.arg))
        else:
            path = (*section, *arg_path(problem.arg))
        problems.append(Problem(path, problem.value, problem.allowed))
    return ConfigError(stack, problems)


def _pool_index(component_name: str, config: EnvironmentConfig) -> int | str:
    """The index of the GPU pool a ``GpuNodePool`` was built for (its name ends in it)."""
    names = [pool.name for pool in config.gpu.pools]
    matches = [i for i, name in enumerate(names) if component_name.endswith(name)]
    return max(matches, key=lambda i: len(names[i])) if matches else component_name


P = ParamSpec("P")
R = TypeVar("R")


def reported_as_config_errors(init: Callable[P, R]) -> Callable[P, R]:
    """Decorate a composite's ``__init__(self, name, config, ...)``: component input errors
    raised while it builds become :class:`ConfigError` in config key paths."""

    @wraps(init)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return init(*args, **kwargs)
        except ComponentInputError as exc:
            config: Any = kwargs.get("config") or kwargs.get("args")
            if config is None and len(args) > 2:
                config = args[2]
            config = getattr(config, "config", config)  # MlopsPlatformArgs carries it
            if not isinstance(config, EnvironmentConfig):
                raise
            raise as_config_error(exc, config, pulumi.get_stack()) from None

    return wrapper
