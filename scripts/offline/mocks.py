"""The offline engine's mocks: moved to :mod:`mlops_platform.testing.mocks` (the shipped test
kit) in 0.2.0 and re-exported here for the scripts and tests."""

from mlops_platform.testing.mocks import (
    DEFAULT_ACCOUNT,
    STACK_REFERENCE,
    InvokeAnswer,
    PlatformMocks,
    RawRegistration,
    RecordingMonitor,
    UnansweredInvokeError,
    UnansweredStackReferenceError,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "STACK_REFERENCE",
    "InvokeAnswer",
    "PlatformMocks",
    "RawRegistration",
    "RecordingMonitor",
    "UnansweredInvokeError",
    "UnansweredStackReferenceError",
]
