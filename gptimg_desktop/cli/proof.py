"""`gptimg proof` and `gptimg cutout`, plus what `generate --for-cutout` / `--background transparent` add.

proof exit codes: 0 every expected line found as written, 3 the proof found problems, 1 any failure.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from ..core.errors import RequestRefused
from ..core.models import find_model
from . import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, CliError, _open_store, _progress

EXIT_PROBLEMS = 3
TRANSPARENT_PREVIEW_SETTING = "transparent_preview"  # the Settings checkbox for gpt-image-2's preview


def register(sub: Any) -> dict[str, Any]:
    proof = sub.add_parser("proof", help="read the text in an image and check it against the expected text")
    proof.add_argument("target", metavar="IMAGE_OR_VERSION_ID", help="an image file or a history version id")
    proof.add_argument("--expect", action="append", default=None, metavar="TEXT",
                       help="a line the image must carry; repeat for more (default: the quoted text of the prompt)")
    proof.add_argument("--strict", action="store_true", help="compare case and spaces too")
    proof.add_argument("--quick", action="store_true", help="faster, for large headline text")
    proof.add_argument("--json", action="store_true")

    cut = sub.add_parser("cutout", help="remove the background locally and write an RGBA PNG")
    cut.add_argument("target", metavar="IMAGE_OR_VERSION_ID")
    cut.add_argument("--out", type=Path, required=True, metavar="FILE.png")
    cut.add_argument("--json", action="store_true")
    return {"proof": cmd_proof, "cutout": cmd_cutout}


# ------------------------------------------------------------------------------------------- proof


def cmd_proof(args: argparse.Namespace) -> int:
    from ..core.proofing import expected_from_prompt
    from ..jobs.proofing import ProofFailed, proof_file, proof_version
    from ..ocr.engine import OcrUnavailable

    mode = "quick" if args.quick else "full"
    path = Path(args.target).expanduser()
    try:
        if path.is_file():
            expected = args.expect if args.expect is not None else expected_from_prompt(_embedded_prompt(path))
            report = proof_file(path, expected, strict=args.strict, mode=mode)
        else:
            store = _open_store()
            try:
                if store.get_version(args.target) is None:
                    raise CliError(f"{args.target} is neither an image file nor a version in the history; "
                                   "see `gptimg history`.", EXIT_FAILED)
                report = proof_version(store, args.target, args.expect, strict=args.strict, mode=mode)
            finally:
                store.close()
    except (ProofFailed, OcrUnavailable) as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    data = report.to_json()
    data.pop("strict", None)  # the contract's keys: expected, found, lines, extra, score, ok
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_proof(data)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _embedded_prompt(path: Path) -> str:
    """The prompt an export embedded in the file (PNG text, EXIF/XMP), or nothing."""
    from ..core.export import read_metadata

    try:
        return str(read_metadata(path).get("prompt") or "")
    except Exception:  # a file without readable metadata simply has no prompt
        return ""


def _print_proof(data: dict) -> None:
    if not data["expected"]:
        _progress("No expected text: the prompt quotes nothing and no --expect was given.")
    for line in data["lines"]:
        if line["ok"]:
            print(f"✓ {line['expected']}")
        elif line["found"] is None:
            print(f"✗ {line['expected']}  — not found")
        else:
            print(f"✗ {line['expected']}  — reads \"{line['found']}\" at {line['box']}")
    for extra in data["extra"]:
        print(f"+ \"{extra['text']}\" at {extra['box']} was not asked for")
    print(f"score {data['score']:.2f} · {'ok' if data['ok'] else 'problems found'}")


# ------------------------------------------------------------------------------------------- cutout


def _source_image(target: str):
    from ..core.images import decode_image

    path = Path(target).expanduser()
    if not path.is_file():
        store = _open_store()
        try:
            version = store.get_version(target)
            if version is None:
                raise CliError(f"{target} is neither an image file nor a version in the history; "
                               "see `gptimg history`.", EXIT_REFUSED)
            path = version.path
        finally:
            store.close()
        if not path.is_file():
            raise CliError(f"The image of version {target} is missing from the data folder ({path}).")
    return decode_image(path.read_bytes(), path.name)


def cmd_cutout(args: argparse.Namespace) -> int:
    from ..core.cutout import foreground_fraction, remove_background

    target = args.out.expanduser().absolute()
    if target.suffix.lower() != ".png":
        raise CliError("--out must name a .png file: the cutout is an RGBA PNG.", EXIT_REFUSED)
    if not target.parent.is_dir():
        raise CliError(f"The folder {target.parent} does not exist; create it or choose another.", EXIT_REFUSED)
    result = remove_background(_source_image(args.target))
    _write_png(target, result)
    fraction = round(foreground_fraction(result), 4)
    if args.json:
        print(json.dumps({"file": str(target), "foreground_fraction": fraction}, indent=2))
    else:
        print(target)
        _progress(f"{fraction:.0%} of the picture is subject.")
    return EXIT_OK


def _write_png(target: Path, image) -> None:
    from ..store.files import atomic_write

    buf = io.BytesIO()
    image.save(buf, "PNG")
    atomic_write(target, buf.getvalue())


# ------------------------------------------------------------------------------------------- generate


def add_generate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--for-cutout", action="store_true",
                   help="generate on a flat key colour and key it out locally: writes RGBA PNGs")


def adjust_generate(args: argparse.Namespace, store) -> None:
    """Before a generate is sent: the Settings preview switch, the --for-cutout prompt, and a refusal of
    transparent backgrounds that names --for-cutout where the model can't make them."""
    from ..core.cutout import choose_key_colour, for_cutout_prompt

    if not args.transparent_preview and store.get_setting(TRANSPARENT_PREVIEW_SETTING, False):
        args.transparent_preview = True
    spec = find_model(args.model)
    if getattr(args, "for_cutout", False):
        if args.background == "transparent":
            raise RequestRefused("Use either --background transparent or --for-cutout, not both.", param="background")
        if args.output_format == "jpeg":
            raise RequestRefused("--for-cutout writes transparent PNGs; drop --format jpeg.", param="output_format")
        key = choose_key_colour(args.prompt)
        args.prompt = for_cutout_prompt(args.prompt, key)
        args.background = "opaque"
        args.output_format = "png"
        args.cutout_key = key
        _progress(f"note: generating on flat {key.name} ({key.hex}), then keying it out locally.")
        return
    if args.background == "transparent" and spec is not None:
        no_native = spec.transparent == "no" or (spec.transparent == "preview" and not args.transparent_preview)
        if no_native:
            how = (" unless its preview is switched on (Settings, or --transparent-preview)"
                   if spec.transparent == "preview" else "")
            raise RequestRefused(
                f"{spec.name} can't make transparent backgrounds{how}; use --for-cutout to generate on a key "
                "colour and cut the subject out locally.",
                param="background",
            )
        if args.output_format == "jpeg":
            raise RequestRefused("A transparent background needs --format png or webp; JPEG has no alpha.",
                                 param="output_format")


def finish_for_cutout(args: argparse.Namespace, store, version, record: dict) -> None:
    """Key the flat colour out of a --for-cutout result; the RGBA PNG replaces the opaque file in the output."""
    from ..core.cutout import key_out
    from ..core.images import decode_image

    key = getattr(args, "cutout_key", None)
    if key is None:
        return
    keyed = key_out(decode_image(version.path.read_bytes(), version.path.name), key)
    folder = args.out if args.out is not None else store.root / "cutouts"
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / f"gptimg-{version.id}-cutout.png").absolute()
    _write_png(target, keyed)
    record["opaque_files"] = record.get("files", [])
    record["files"] = [str(target)]
    record["key_colour"] = key.hex


__all__ = ["register", "add_generate_options", "adjust_generate", "finish_for_cutout", "EXIT_PROBLEMS"]
