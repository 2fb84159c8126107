"""Uploaded images of concepts and drafts: verified, re-encoded, stored in two widths.

Nothing a facilitator uploads is served as it came: Pillow must decode it as
PNG, JPEG or WebP, it must not be a decompression bomb, and it is re-encoded
(no metadata, orientation applied) into an 800 px and a 1600 px wide copy,
so phones load the small one and the projector and the PDF the sharp one.
"""
from __future__ import annotations

import secrets
import warnings
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import Refused

FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels decoded: larger is refused, not decoded
WIDTHS = (800, 1600)


def folder() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(stream) -> dict:
    """Verify and store an uploaded image; return {name, width, height, widths}.

    `name` is a random stem; the files are `<stem>-<width>.<ext>`. Refuses
    anything that is not a real PNG/JPEG/WebP within the size limits.
    """
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Refused(_l("The image is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)), 413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
            if probe.format not in FORMATS:
                raise Refused(_l("Upload a PNG, JPEG or WebP image."), 415)
            if probe.width * probe.height > MAX_PIXELS:
                raise Refused(_l("The image is too large (%(w)d × %(h)d pixels).",
                                 w=probe.width, h=probe.height), 413)
            probe.verify()  # structure check; the image must be reopened to decode it
            image = Image.open(BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(_l("The image is too large (more than %(mp)d megapixels).",
                         mp=MAX_PIXELS // 1_000_000), 413) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Refused(_l("This file is not a readable image. Upload a PNG, JPEG or WebP image."),
                      415) from None
    image = ImageOps.exif_transpose(image)
    ext = FORMATS[probe.format]
    stem = secrets.token_urlsafe(12)
    widths = []
    for width in WIDTHS:
        copy = image.copy()
        if copy.width > width:
            copy.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
        _encode(copy, folder() / f"{stem}-{width}.{ext}", probe.format)
        widths.append(min(width, image.width))
    return {"name": stem, "ext": ext, "width": image.width, "height": image.height, "widths": widths}


def _encode(image: Image.Image, path: Path, fmt: str) -> None:
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif fmt != "JPEG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    options = {"JPEG": {"quality": 85, "optimize": True, "progressive": True},
               "WEBP": {"quality": 85, "method": 4}, "PNG": {"optimize": True}}[fmt]
    image.save(path, fmt, **options)


def filename(image: dict, width: int) -> str:
    """Return the stored file name of an image at one of its widths."""
    return f"{image['name']}-{width}.{image['ext']}"


def url(image: dict, width: int) -> str:
    """Return the URL of an image at one of its widths (a template global: no request needed)."""
    return f"/media/{filename(image, width)}"


def file_path(name: str) -> Path | None:
    """Return the path of a stored image file, or None for any other name."""
    base, _, ext = name.rpartition(".")
    stem, _, width = base.rpartition("-")
    if (not stem or not width.isdigit() or int(width) not in WIDTHS or ext not in FORMATS.values()
            or not all(c.isalnum() or c in "_-" for c in stem)):
        return None
    path = folder() / f"{stem}-{width}.{ext}"
    return path if path.is_file() else None


def delete(image: dict | None) -> None:
    """Remove an image's files (when its item or workshop is deleted)."""
    if image:
        for width in WIDTHS:
            (folder() / filename(image, width)).unlink(missing_ok=True)
