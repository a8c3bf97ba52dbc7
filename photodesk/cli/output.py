"""How the CLI prints assets and reports: JSON objects for scripts, short text for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from photodesk.core import AssetRecord, LibraryStats


def asset_json(a: AssetRecord) -> dict[str, Any]:
    return {
        "id": int(a.id),
        "path": a.path or None,  # None: the original is only on the paired server
        "original": "here" if a.files else "server",
        "files": list(a.files),
        "checksum": a.checksum,
        "kind": a.kind,
        "file_type": a.file_type,
        "mime": a.mime,
        "size": a.size,
        "width": a.width,
        "height": a.height,
        "orientation": a.orientation,
        "duration": a.duration,
        "taken_at": a.taken_at_iso(),
        "taken_at_source": a.taken_at_source,
        "make": a.make,
        "model": a.model,
        "lens": a.lens,
        "iso": a.iso,
        "f_number": a.f_number,
        "exposure_time": a.exposure_time,
        "focal_length": a.focal_length,
        "latitude": a.latitude,
        "longitude": a.longitude,
        "altitude": a.altitude,
        "city": a.city,
        "admin1": a.admin1,
        "admin2": a.admin2,
        "country": a.country,
        "country_name": a.country_name,
        "title": a.title,
        "description": a.description,
        "rating": a.rating,
        "favorite": a.favorite,
        "archived": a.archived,
        "trashed": a.trashed_at is not None,
        "offline": a.offline,
        "tags": list(a.tags),
        "albums": list(a.albums),
        "people": list(a.people),
        "stack_id": a.stack_id,
        "xmp_written_at": (
            a.xmp_written_at.isoformat(timespec="seconds") if a.xmp_written_at else None
        ),
    }


def dump(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _fmt_exposure(t: float | None) -> str:
    if not t:
        return ""
    return f"1/{round(1 / t)}s" if t < 1 else f"{t:g}s"


def asset_line(a: AssetRecord) -> str:
    when = a.taken_at.strftime("%Y-%m-%d %H:%M") if a.taken_at else "????-??-?? ??:??"
    flags = ("★" * a.rating) + (" ♥" if a.favorite else "")
    place = ", ".join(x for x in (a.city, a.country) if x)
    return (
        f"{a.id:>7}  {when}  {a.kind:<5}  {a.path}"
        + (f"  [{place}]" if place else "")
        + (f"  {flags}" if flags.strip() else "")
    )


def asset_detail(a: AssetRecord) -> str:
    rows = [
        ("id", a.id),
        ("path", a.path),
        ("files", "\n".join(a.files)),
        ("taken", f"{a.taken_at_iso()} ({a.taken_at_source})" if a.taken_at else None),
        ("type", f"{a.kind} {a.file_type} ({a.mime})"),
        ("size", f"{a.width}×{a.height}, {_bytes(a.size)}, orientation {a.orientation}"),
        ("camera", _camera(a.make, a.model)),
        ("lens", a.lens),
        (
            "exposure",
            " ".join(
                x
                for x in (
                    f"ISO {a.iso}" if a.iso else "",
                    f"f/{a.f_number:g}" if a.f_number else "",
                    _fmt_exposure(a.exposure_time),
                    f"{a.focal_length:g} mm" if a.focal_length else "",
                )
                if x
            )
            or None,
        ),
        (
            "gps",
            f"{a.latitude:.6f}, {a.longitude:.6f}"
            + (f", {a.altitude:.0f} m" if a.altitude is not None else "")
            if a.latitude is not None and a.longitude is not None
            else None,
        ),
        ("place", ", ".join(x for x in (a.city, a.admin1, a.country_name) if x) or None),
        ("rating", a.rating),
        ("favorite", a.favorite),
        ("archived", a.archived),
        ("trashed", a.trashed_at),
        ("tags", ", ".join(a.tags) or None),
        ("albums", ", ".join(a.albums) or None),
        ("people", ", ".join(a.people) or None),
        ("stack", a.stack_id),
        ("checksum", a.checksum),
        ("xmp", f"sidecar written {a.xmp_written_at:%Y-%m-%d %H:%M}" if a.xmp_written_at else None),
    ]
    shown = [(k, str(v)) for k, v in rows if v not in (None, "", False)]
    width = max(len(k) for k, _ in shown) + 2  # labels in one column, never run into values
    pad = "\n" + " " * width
    return "\n".join(f"{k:<{width}}{v.replace(chr(10), pad)}" for k, v in shown)


def _bytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} KB"


def _camera(make: str | None, model: str | None) -> str | None:
    """ "Canon EOS 6D", not "Canon Canon EOS 6D": the model often repeats the make."""
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model
    return " ".join(x for x in (make, model) if x) or None


def stats_text(s: LibraryStats) -> str:
    span = f"{s.oldest:%Y-%m-%d} – {s.newest:%Y-%m-%d}" if s.oldest and s.newest else "–"
    return "\n".join(
        [
            f"assets       {s.assets} ({s.photos} photos, {s.raws} RAW, {s.videos} videos)",
            f"size         {s.total_bytes / 1e9:.2f} GB",
            f"taken        {span}",
            f"with GPS     {s.with_gps}",
            f"favourites   {s.favorites}",
            f"archived     {s.archived}",
            f"in trash     {s.trashed}",
            f"offline      {s.offline}",
            f"stacks       {s.stacks}",
            f"albums       {s.albums}",
            f"tags         {s.tags}",
            f"people       {s.people}",
            f"import errors {s.import_errors}",
        ]
    )


def progress_bar(enabled: bool) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A terminal progress bar fed ``(done, total)``; nothing when ``enabled`` is false."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="file", file=sys.stderr, dynamic_ncols=True, leave=False)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        if done == total or done % 16 == 0:
            bar.refresh()

    return update, bar.close
