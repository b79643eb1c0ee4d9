"""The built-in definitions: read from kubernetes_validate's files without importing the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_definitions_load_without_importing_kubernetes_validate_or_jsonschema() -> None:
    """Importing the package pulls in jsonschema (~0.1 s of the first create after start-up): a fresh
    interpreter that loads the definitions must have imported neither."""
    script = (
        "import sys\n"
        "from machinery.schemas import definition_for, definitions\n"
        "assert len(definitions()) > 500, len(definitions())\n"
        "assert definition_for('apps', 'v1', 'Deployment') == 'io.k8s.api.apps.v1.Deployment'\n"
        "print(sorted(m for m in ('kubernetes_validate', 'jsonschema') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
