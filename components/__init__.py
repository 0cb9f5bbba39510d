"""Pulumi component resources for private, GPU-ready MLOps environments on AWS.

Importing this package creates no resources; constructing a component does.
"""

__version__ = "0.1.0"
