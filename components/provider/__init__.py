"""The component library as a Pulumi component package (``pulumi package add``).

:func:`hosted_components` builds, for every public component, the class the SDK's component
provider host analyses (concrete annotations, plain args types); ``components/__main__.py``
serves them. See docs/components/schema.md for the schema it answers.
"""

from .hosted import PACKAGE_NAME, hosted_components, serve

__all__ = ["PACKAGE_NAME", "hosted_components", "serve"]
