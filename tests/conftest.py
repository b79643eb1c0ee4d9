import pytest

from tests import binaries


@pytest.fixture(scope="session")
def kubectl_bin() -> str:
    """Path of a real kubectl v1.35 (fetched once, cached; skipped offline, an error in CI)."""
    return binaries.kubectl()


@pytest.fixture(scope="session")
def helm_bin() -> str:
    """Path of a real helm v4 (fetched once, cached; skipped offline, an error in CI)."""
    return binaries.helm()
