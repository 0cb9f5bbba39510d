"""Grafana dashboards of the platform, shipped as package data (``*.json``).

The JSON files hold placeholders (``__POOL_LABEL__``, ``__REQUESTS_METRIC__``,
``__LATENCY_METRIC__``, ``__STATUS_LABEL__``) that
:mod:`mlops_platform.observability.observability` replaces
with the environment's label and metric names before shipping them as ConfigMaps.
"""
