"""Shipped weights: ``<name>.safetensors`` + ``<name>.json`` (config) listed in ``manifest.json``.

Every entry records the sha256 of both files and the exact command that reproduces it; loading
checks the hashes so a truncated or swapped file fails loudly instead of giving silent garbage.
Weights written elsewhere (a user's own training) use the same format in their own folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

ASSETS_DIR = Path(__file__).resolve().parent
MANIFEST = "manifest.json"


class WeightsError(RuntimeError):
    """A weights file is missing, truncated, or does not match its manifest entry."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(folder: Path = ASSETS_DIR) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise WeightsError(f"{path}: not valid JSON ({e})") from None


def save_weights(
    name: str,
    tensors: dict[str, Any],
    config: dict[str, Any],
    command: str,
    folder: Path = ASSETS_DIR,
) -> Path:
    """Write ``name``'s tensors and config into ``folder`` and record both hashes in its manifest."""
    from safetensors.torch import save

    folder = Path(folder)
    weights = folder / f"{name}.safetensors"
    config_path = folder / f"{name}.json"
    contiguous = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _atomic_write_bytes(weights, save(contiguous))
    _atomic_write_bytes(config_path, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    manifest = read_manifest(folder)
    manifest[name] = {
        "weights": weights.name,
        "config": config_path.name,
        "sha256": sha256_file(weights),
        "config_sha256": sha256_file(config_path),
        "bytes": weights.stat().st_size,
        "command": command,
    }
    body = json.dumps(dict(sorted(manifest.items())), indent=2) + "\n"
    _atomic_write_bytes(folder / MANIFEST, body.encode())
    return weights


def load_weights(name: str, folder: Path = ASSETS_DIR) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (tensors, config) for ``name`` after checking both files against the manifest."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    folder = Path(folder)
    manifest = read_manifest(folder)
    if name not in manifest:
        raise WeightsError(
            f"no weights named {name!r} in {folder / MANIFEST}; known: {sorted(manifest)}"
        )
    entry = manifest[name]
    weights, config_path = folder / entry["weights"], folder / entry["config"]
    for path, key in ((weights, "sha256"), (config_path, "config_sha256")):
        if not path.exists():
            raise WeightsError(f"{path}: missing (listed in {folder / MANIFEST} as {name!r})")
        actual = sha256_file(path)
        if actual != entry[key]:
            raise WeightsError(
                f"{path}: sha256 {actual[:12]}... does not match the manifest's {entry[key][:12]}... "
                f"(truncated or replaced file; rebuild with: {entry['command']})"
            )
    data = weights.read_bytes()
    try:
        tensors = load(data)
    except SafetensorError as e:
        raise WeightsError(f"{weights}: not a valid safetensors file ({e})") from None
    return tensors, json.loads(config_path.read_text())
