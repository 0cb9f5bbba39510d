"""Generate docs/outputs.md (the platform stack's output contract) from mlops_platform.contract.

python -m scripts.outputs_docs            # rewrite it
python -m scripts.outputs_docs --check    # exit 1 when it is stale (tests)
"""

from __future__ import annotations

import argparse

from mlops_platform.contract import outputs_markdown

from scripts.offline.project import REPO_ROOT

OUTPUTS_DOC = REPO_ROOT / "docs" / "outputs.md"


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) docs/outputs.md; returns the exit code."""
    parser = argparse.ArgumentParser(
        description="Generate docs/outputs.md from mlops_platform.contract."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    options = parser.parse_args(argv)
    text = outputs_markdown()
    if options.check:
        current = OUTPUTS_DOC.read_text(encoding="utf-8") if OUTPUTS_DOC.exists() else ""
        if current != text:
            print(
                f"{OUTPUTS_DOC.relative_to(REPO_ROOT)} is stale: run python -m scripts.outputs_docs"
            )
            return 1
        return 0
    OUTPUTS_DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
