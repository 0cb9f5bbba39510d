"""Operator tools: the offline preview, config docs, benchmark, and the operator CLIs."""
