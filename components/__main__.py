"""Entry point of the component package: hosts the public components for other languages.

The Pulumi language host runs this file from the plugin directory (``components/``, see
``PulumiPlugin.yaml``) with the engine's address; ``python -m mlops_platform <engine>`` does
the same from an installed wheel. It prints the port of the provider's gRPC server and serves
GetSchema / Construct until the engine stops it.
"""

import sys
from pathlib import Path

# The language host runs ``python <plugin dir>``, which puts the plugin directory first on
# sys.path; its modules (platform.py, ...) would shadow the standard library's. They are
# imported as the package ``mlops_platform`` instead (below), never as top-level modules.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import importlib  # noqa: E402 (after the path fix, on purpose)
import importlib.util  # noqa: E402

IMPORT_NAME = "mlops_platform"


def _load_package() -> None:
    """Import this directory as ``mlops_platform`` (the plugin directory is named
    ``components``; its modules import each other relatively)."""
    if IMPORT_NAME in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        IMPORT_NAME, _HERE / "__init__.py", submodule_search_locations=[str(_HERE)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {_HERE} as {IMPORT_NAME}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[IMPORT_NAME] = module
    spec.loader.exec_module(module)


if __name__ == "__main__":
    if __package__ != IMPORT_NAME:  # run as a file, not as ``python -m mlops_platform``
        _load_package()
    package = importlib.import_module(IMPORT_NAME)
    importlib.import_module(f"{IMPORT_NAME}.provider").serve(package.__version__)
