"""Operator tools: the offline preview, and (as they land) backend bootstrap, preflight and verify."""
