"""Typed stack configuration: the model, the per-environment profiles and the rules."""

from .loader import ConfigError, environment_from_config, load_environment
from .model import EnvironmentConfig, Profile
from .rules import Problem, planned_subnets

__all__ = [
    "ConfigError",
    "EnvironmentConfig",
    "Problem",
    "Profile",
    "environment_from_config",
    "load_environment",
    "planned_subnets",
]
