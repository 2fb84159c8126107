"""Uploaded images of concepts and drafts: verified, re-encoded, stored in two widths.

Nothing a facilitator or a partner uploads is served as it came. First, in the request and
from the file's header alone (Pillow reads the size without decoding a pixel): it must be a
PNG, JPEG or WebP of at most MAX_SIDE pixels a side, MAX_PIXELS in all and a side ratio of at
most MAX_ASPECT, or it is refused in milliseconds. Then, in a worker process (offload.py: the
live server never decodes), it is decoded, turned upright, brought to sRGB (no colour profile
or other metadata is kept) and re-encoded into an 800 px and a 1600 px wide copy, so phones
load the small one and the projector and the PDF the sharp one.
"""
from __future__ import annotations

import secrets
import shutil
import warnings
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from . import offload
from .errors import Refused

FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels decoded: larger is refused, not decoded
MAX_SIDE = 12_000  # pixels, either side
MAX_ASPECT = 10  # the long side at most ten times the short one (a wide panorama; not a 1-pixel line)
WIDTHS = (800, 1600)
NOT_AN_IMAGE = _l("This file is not a readable image. Upload a PNG, JPEG or WebP image.")


def folder() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(stream) -> dict:
    """Verify and store an uploaded image; return {name, ext, width, height, widths}.

    `name` is a random stem; the files are `<stem>-<width>.<ext>`. Refuses anything that
    is not a real PNG/JPEG/WebP within the limits; what the header tells is checked here,
    the decoding and re-encoding is a job for a worker process (offload.run): the session's
    database connection is given back meanwhile, so call it with nothing pending.
    """
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Refused(_l("The image is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)), 413)
    check_header(data)
    return offload.run("image", data)


def check_header(data: bytes) -> tuple[str, int, int]:
    """Return an image's (format, width, height) from its header, or refuse it; decodes no pixel."""
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning: the bounds below say it better
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as probe:
                fmt, width, height = probe.format, probe.width, probe.height
    except Image.DecompressionBombError:
        raise Refused(_l("The image is too large (more than %(mp)d megapixels).",
                         mp=MAX_PIXELS // 1_000_000), 413) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Refused(NOT_AN_IMAGE, 415) from None
    if fmt not in FORMATS:
        raise Refused(_l("Upload a PNG, JPEG or WebP image."), 415)
    if width < 1 or height < 1:
        raise Refused(NOT_AN_IMAGE, 415)
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise Refused(_l("The image is too large (%(w)d × %(h)d pixels): at most %(side)d pixels a side "
                         "and %(mp)d megapixels.", w=width, h=height, side=MAX_SIDE,
                         mp=MAX_PIXELS // 1_000_000), 413)
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise Refused(_l("The image is too narrow (%(w)d × %(h)d pixels): one side may be at most "
                         "%(n)d times the other.", w=width, h=height, n=MAX_ASPECT), 413)
    return fmt, width, height


def store(data: bytes) -> dict:
    """Decode a header-checked image and store its re-encoded copies (a worker's job: offload.JOBS)."""
    fmt, _width, _height = check_header(data)  # again: a job is never trusted to have been checked
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
            probe.verify()  # structure check; the image must be reopened to decode it
            image = Image.open(BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(_l("The image is too large (more than %(mp)d megapixels).",
                         mp=MAX_PIXELS // 1_000_000), 413) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Refused(NOT_AN_IMAGE, 415) from None
    image = _srgb(ImageOps.exif_transpose(image))
    ext = FORMATS[fmt]
    stem = secrets.token_urlsafe(12)
    widths = []
    for width in WIDTHS:
        copy = image.copy()
        if copy.width > width:
            copy.thumbnail((width, width * MAX_ASPECT), Image.Resampling.LANCZOS)
        _encode(copy, folder() / f"{stem}-{width}.{ext}", fmt)
        widths.append(min(width, image.width))
    return {"name": stem, "ext": ext, "width": image.width, "height": image.height, "widths": widths}


_SRGB = ImageCms.createProfile("sRGB")


def _srgb(image: Image.Image) -> Image.Image:
    """Return the image in sRGB with no colour profile attached (an embedded profile is applied, then
    dropped: a stored copy never carries a chunk of the uploader's choosing)."""
    icc = image.info.pop("icc_profile", None)
    if icc and image.mode in ("RGB", "RGBA", "L", "CMYK"):
        try:
            mode = "RGBA" if image.mode == "RGBA" else "RGB"
            image = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(BytesIO(icc)), _SRGB,
                                              outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: the pixels stay as they are, the profile goes
    image.info.pop("icc_profile", None)
    return image


def _encode(image: Image.Image, path: Path, fmt: str) -> None:
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif fmt != "JPEG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    options = {"JPEG": {"quality": 85, "optimize": True, "progressive": True},
               "WEBP": {"quality": 85, "method": 4}, "PNG": {"optimize": True}}[fmt]
    image.info.pop("icc_profile", None)
    image.save(path, fmt, **options)


def duplicate(image: dict) -> dict | None:
    """Return a copy of a stored image under a new name (its files copied as they are: no decoding)."""
    stem = secrets.token_urlsafe(12)
    copied = {**image, "name": stem}
    for width in WIDTHS:
        source = file_path(filename(image, width))
        if source is None:
            delete(copied)
            return None
        shutil.copyfile(source, folder() / filename(copied, width))
    return copied


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
