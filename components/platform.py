"""``MlopsPlatform``: one complete environment, composed from the validated stack config."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import EnvironmentConfig
from components.tagging import platform_tags


class MlopsPlatform(pulumi.ComponentResource):
    """A whole MLOps environment: the AWS provider every child uses, then the components.

    The provider carries the environment's ``default_tags`` (first tag layer) and pins the
    region and, when configured, the account IDs the stack may touch. Components land here
    as they are built; each receives the merged ``tags`` (second tag layer) explicitly.
    """

    region: pulumi.Output[str]
    """The AWS region the environment lives in."""

    tags: pulumi.Output[dict[str, str]]
    """The tags every resource of the environment carries."""

    def __init__(
        self,
        name: str,
        config: EnvironmentConfig,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:platform:MlopsPlatform", name, None, opts)
        self.config = config
        base_tags = platform_tags(
            pulumi.get_project(), pulumi.get_stack(), config.profile.value, config.tags
        )
        self.provider = aws.Provider(
            f"{name}-aws",
            region=config.region,
            allowed_account_ids=config.allowed_account_ids,
            default_tags=aws.ProviderDefaultTagsArgs(tags=base_tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.region = pulumi.Output.from_input(config.region)
        self.tags = pulumi.Output.from_input(base_tags)
        self.register_outputs({"region": self.region, "tags": self.tags})
