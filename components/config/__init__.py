"""Typed stack configuration: the model, the per-environment profiles and the rules."""

from components.config.loader import ConfigError, environment_from_config, load_environment
from components.config.model import EnvironmentConfig, Profile
from components.config.rules import Problem, planned_subnets

__all__ = [
    "ConfigError",
    "EnvironmentConfig",
    "Problem",
    "Profile",
    "environment_from_config",
    "load_environment",
    "planned_subnets",
]
