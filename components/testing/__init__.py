"""The offline test kit: run a Pulumi program under realistic mocks and see what it registered.

Teams test their own stacks that use the platform's components with no cloud, no Pulumi CLI
and no credentials:

>>> recording = run(lambda: ArtifactStore("store", ArtifactStoreArgs(name_prefix="t-dev")))
>>> recording.one("aws:s3/bucket:Bucket", "store-models").inputs["bucket"]
't-dev-models-123456789012'

:func:`run` runs the program in a fresh mocked stack (the SDK's own mock runtime) and returns a
:class:`Recording` of every resource registration whole (type, name, inputs, parent,
provider, dependencies, protect, aliases...), the stack outputs and the invokes.
:class:`PlatformMocks` answers as AWS would: IDs and ARNs in the stack's account and region,
EKS clusters with an OIDC issuer and endpoint, the invokes the components use (availability
zones, caller identity, partition, region, SSM AMI parameters), and StackReference reads of
the platform stack (:func:`stack_reference_state`). An invoke it has no answer for fails with
:class:`UnansweredInvokeError` naming it; answer it with ``PlatformMocks(invoke_answers=...)``.
docs/testing.md shows a whole pytest module.
"""

from .engine import (
    UNKNOWN_WIRE,
    Recording,
    Registration,
    Secret,
    Unknown,
    decode,
    plain,
    run_program,
    stack_reference_state,
)
from .mocks import (
    DEFAULT_ACCOUNT,
    PlatformMocks,
    RecordingMonitor,
    UnansweredInvokeError,
    UnansweredStackReferenceError,
)

run = run_program
"""``run(program, *, project="mlops", stack="dev", config=None, mocks=None, ...) -> Recording``."""

__all__ = [
    "DEFAULT_ACCOUNT",
    "UNKNOWN_WIRE",
    "PlatformMocks",
    "Recording",
    "RecordingMonitor",
    "Registration",
    "Secret",
    "UnansweredInvokeError",
    "UnansweredStackReferenceError",
    "Unknown",
    "decode",
    "plain",
    "run",
    "run_program",
    "stack_reference_state",
]
