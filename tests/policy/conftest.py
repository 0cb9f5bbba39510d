"""The policy tier: one analyzer (the real pack, over gRPC) for the whole session, the
``analyzer`` fixture of tests/conftest.py, shared with the stacks tier's in-process CLIs."""
