"""The shared floor: naming, tagging, validation, label keys, KMS policy helpers, the GPU
catalog. No resources and no pydantic; the policy pack imports it too."""
