"""The MLOps platform program: load the stack's config, build the platform, export outputs."""

import pulumi

from components.config import load_environment
from components.platform import MlopsPlatform

config = load_environment()
platform = MlopsPlatform(f"{pulumi.get_project()}-{pulumi.get_stack()}", config)

pulumi.export("profile", config.profile.value)
pulumi.export("region", platform.region)
pulumi.export("tags", platform.tags)
