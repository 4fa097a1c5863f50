"""What a file really is, judged by its bytes; clean copies and thumbnails of images.

The type comes from the content's magic bytes (puremagic, a maintained pure-Python port of
the `file` command's signatures), never from the name or the type a client claims: a PNG
called `report.pdf` is a PNG. Text has no magic bytes, so bytes that decode as UTF-8 with no
binary control characters count as plain text. Images are then opened with Pillow (a file
that only starts like a PNG is refused), thumbnailed, and stripped of their metadata (EXIF
with GPS positions, XMP, IPTC, comments, PNG text): a photo taken with a phone tells the desk
nothing about where it was taken.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import puremagic
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
                 "image/webp": "WEBP"}
THUMBNAIL_BOX = (480, 480)
THUMBNAIL_TYPE = "image/webp"
# Characters text may hold besides printable ones: tab, new line, form feed, carriage return.
_TEXT_CONTROLS = {9, 10, 12, 13}
_METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")
_EXIF_ORIENTATION = 0x0112


class NotAnImage(ValueError):
    """Bytes that look like an image format but that Pillow cannot read, or too large."""


@dataclass(frozen=True)
class ImageFile:
    data: bytes  # the original, without metadata (unchanged when it had none)
    width: int
    height: int
    thumbnail: bytes


def sniff(data: bytes) -> str | None:
    """The MIME type the content says it is, or None when nothing is recognised."""
    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:  # best first
        if match.mime_type:
            return match.mime_type
    return "text/plain" if _reads_as_text(data) else None


def _reads_as_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(ch) < 32 and ord(ch) not in _TEXT_CONTROLS or ord(ch) == 127
                   for ch in text)


def process_image(data: bytes, content_type: str, max_pixels: int) -> ImageFile:
    """Open the image, refuse what Pillow cannot read or what is too large, make its
    thumbnail and a copy of the original without metadata."""
    expected = IMAGE_FORMATS[content_type]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[expected])
            width, height = image.size
            if width * height > max_pixels:
                raise NotAnImage(f"The image is {width}×{height} pixels; at most "
                                 f"{max_pixels:,} pixels are accepted.")
            Image.open(io.BytesIO(data), formats=[expected]).verify()
            image.load()
        except NotAnImage:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise NotAnImage("The file is not a readable image.") from exc
    return ImageFile(data=_without_metadata(image, data), width=width, height=height,
                     thumbnail=_thumbnail(image))


def _thumbnail(image: Image.Image) -> bytes:
    """A small WebP of the first frame, turned upright, with no metadata at all."""
    frame = ImageOps.exif_transpose(image.copy())
    if frame.mode not in ("RGB", "RGBA"):
        frame = frame.convert("RGBA" if "transparency" in frame.info or frame.mode in (
            "LA", "PA", "P") else "RGB")
    frame.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    frame.save(out, "WEBP", quality=82, method=4)
    return out.getvalue()


def has_metadata(image: Image.Image) -> bool:
    """EXIF (GPS, camera, times), XMP, IPTC, comments or PNG text chunks."""
    if image.getexif() or any(key in image.info for key in _METADATA_KEYS):
        return True
    if getattr(image, "text", None):  # PNG tEXt/iTXt/zTXt
        return True
    return any(marker not in ("APP0", "APP2") for marker, _ in getattr(image, "applist", []))


def _without_metadata(image: Image.Image, data: bytes) -> bytes:
    """The original bytes when they carry no metadata; else the same pixels re-written
    without it (JPEG with its own quantisation tables, so no visible loss; the orientation
    is kept so the photo still shows upright). GIFs are kept as they are."""
    if image.format == "GIF" or not has_metadata(image):
        return data
    out = io.BytesIO()
    options: dict = {}
    if image.info.get("icc_profile"):
        options["icc_profile"] = image.info["icc_profile"]
    if image.format == "JPEG":
        orientation = image.getexif().get(_EXIF_ORIENTATION)
        if orientation:
            exif = Image.Exif()
            exif[_EXIF_ORIENTATION] = orientation
            options["exif"] = exif.tobytes()
        image.save(out, "JPEG", quality="keep", subsampling="keep", **options)
    elif image.format == "PNG":
        if "transparency" in image.info:
            options["transparency"] = image.info["transparency"]
        image.save(out, "PNG", **options)
    else:  # WEBP
        image.save(out, "WEBP", quality=95, lossless=image.info.get("lossless", False),
                   **options)
    return out.getvalue()
