"""``photodesk models``: list, download, import, remove and export the ML model packs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from photodesk.cli.registry import Command
from photodesk.settings import resolve_library_dir


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help="machine-learning model packs: list, download, import, remove, export-clip",
        description="Model packs live in <library>/models in the layout Immich publishes "
        "(huggingface.co/immich-app): CLIP packs such as ViT-B-32__openai and face packs "
        "buffalo_l, buffalo_s, antelopev2. The dlib face backend needs no pack.",
    )
    p.add_argument("--json", action="store_true", help="list as JSON")
    msub = p.add_subparsers(dest="action", metavar="ACTION")
    lp = msub.add_parser("list", help="installed packs, what they lack, execution providers")
    lp.add_argument("--json", action="store_true", help="print JSON")
    dp = msub.add_parser("download", help="download immich-app/NAME from Hugging Face")
    dp.add_argument("name", metavar="NAME", help="e.g. ViT-B-32__openai, buffalo_l")
    dp.add_argument("--replace", action="store_true", help="overwrite an installed pack")
    ip = msub.add_parser("import", help="install packs from a folder or zip (offline machines)")
    ip.add_argument("path", metavar="PATH", help="a pack folder, a folder of packs, or a zip")
    ip.add_argument("--name", help="install a single pack under this name")
    ip.add_argument("--replace", action="store_true", help="overwrite installed packs")
    rp = msub.add_parser("remove", help="delete an installed pack")
    rp.add_argument("name", metavar="NAME")
    ep = msub.add_parser(
        "export-clip", help="export an OpenCLIP model to a pack (needs the export extra)"
    )
    ep.add_argument("arch", metavar="ARCH", help="OpenCLIP architecture, e.g. ViT-B-32")
    ep.add_argument("pretrained", metavar="PRETRAINED", help="OpenCLIP weights, e.g. openai")
    ep.add_argument("--name", help="pack name (default ARCH__PRETRAINED)")
    ep.add_argument(
        "--random-weights",
        action="store_true",
        help="skip the weights download: random weights, same compute (for benchmarks)",
    )
    ep.add_argument("--replace", action="store_true", help="overwrite an installed pack")


def models_dir(library: str | None) -> Path:
    """``<library>/models`` for the --library argument (or its defaults)."""
    return resolve_library_dir(library) / "models"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _list(root: Path, as_json: bool) -> int:
    from photodesk.ml.model_store import ModelStore

    packs = ModelStore(root).list()
    try:
        from photodesk.ml.runtime import available_providers, resolve_providers

        available: list[str] = available_providers()
        chosen: list[str] = resolve_providers()
        provider_note = None
    except ImportError:
        available, chosen = [], []
        provider_note = "onnxruntime is not installed: pip install 'photodesk[ml]'"
    except Exception as exc:  # a bad PHOTODESK_ML_PROVIDERS
        available, chosen, provider_note = [], [], str(exc)
    if as_json:
        out = {
            "models_dir": str(root),
            "packs": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "ok": p.ok,
                    "missing": list(p.missing),
                    "problem": p.problem,
                    "path": str(p.path) if p.path else None,
                    "size_bytes": p.size_bytes,
                }
                for p in packs
            ],
            "providers": {"available": available, "used": chosen, "problem": provider_note},
        }
        print(json.dumps(out, indent=2))
        return 0
    print(f"models folder: {root}")
    for p in packs:
        status = "ok" if p.ok else "MISSING"
        size = _size(p.size_bytes) if p.size_bytes else ""
        print(f"  {p.name:<40} {p.kind:<6} {status:<8} {size}")
        if p.problem:
            print(f"      {p.problem}")
    from photodesk.ml.model_store import DEFAULT_CLIP, FACES

    installed = {p.name for p in packs if p.ok}
    if DEFAULT_CLIP not in installed:
        print(
            f"smart search needs a CLIP pack: `photodesk models download {DEFAULT_CLIP}` "
            "(or `photodesk models import DIR_OR_ZIP` offline)"
        )
    if not any(p.ok and p.kind == FACES for p in packs):
        print(
            "faces use dlib (built in when installed); for Immich's accuracy: "
            "`photodesk models download buffalo_l`"
        )
    if provider_note:
        print(f"execution providers: {provider_note}")
    else:
        print(f"execution providers: {', '.join(chosen)} (installed: {', '.join(available)})")
        print("  choose with PHOTODESK_ML_PROVIDERS, e.g. PHOTODESK_ML_PROVIDERS=cuda,cpu")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``photodesk models ...``; needs no open library, only its folder."""
    from photodesk.ml.errors import MLError
    from photodesk.ml.model_store import ModelStore

    root = models_dir(args.library)
    store = ModelStore(root)
    action = args.action or "list"
    try:
        if action == "list":
            return _list(root, bool(args.json))
        if action == "download":
            from tqdm import tqdm

            info = store.download(args.name, replace=args.replace, tqdm_class=tqdm)
            print(f"installed {info.name} ({_size(info.size_bytes)}) in {info.path}")
            return 0
        if action == "import":
            for info in store.import_pack(Path(args.path), args.name, replace=args.replace):
                print(f"installed {info.name} ({info.kind}, {_size(info.size_bytes)})")
            return 0
        if action == "remove":
            store.remove(args.name)
            print(f"removed {args.name}")
            return 0
        if action == "export-clip":
            from photodesk.ml.clip_export import export_clip

            info = export_clip(
                args.arch,
                args.pretrained,
                root,
                name=args.name,
                random_weights=args.random_weights,
                replace=args.replace,
                report=lambda text: print(text, file=sys.stderr),
            )
            print(f"installed {info.name} ({_size(info.size_bytes)}) in {info.path}")
            return 0
    except MLError as exc:
        print(f"photodesk models: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("photodesk models: interrupted (nothing was installed)", file=sys.stderr)
        return 130
    print(f"photodesk models: unknown action {action}", file=sys.stderr)
    return 2


COMMAND = Command(("models",), add_parser, run_alone=run)  # a folder, not a library
