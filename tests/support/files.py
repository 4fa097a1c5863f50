"""Files as end users send them: screenshots, phone photos with GPS, PDFs, and impostors."""

from __future__ import annotations

import io

from PIL import ExifTags, Image, ImageDraw

GPS_LATITUDE = (52.0, 31.0, 12.5)


def png(width: int = 640, height: int = 400, text: str = "Error 0x80070005") -> bytes:
    """A screenshot: a dialog with an error text."""
    image = Image.new("RGB", (width, height), "#f3f4f6")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, width - 40, height - 40), fill="white", outline="#d1d5db", width=3)
    draw.rectangle((40, 40, width - 40, 90), fill="#dc2626")
    draw.text((60, 120), text, fill="#111827")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(width: int = 1200, height: int = 900) -> bytes:
    """A phone photo: EXIF with the camera, the time, an orientation and a GPS position."""
    image = Image.new("RGB", (width, height), "#2563eb")
    ImageDraw.Draw(image).ellipse((100, 100, width - 100, height - 100), fill="#f59e0b")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.DateTime] = "2026:11:20 08:15:00"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (13.0, 24.0, 1.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def sideways_photo(width: int = 1200, height: int = 900) -> bytes:
    """A phone photo stored sideways with EXIF orientation 6 (turn 90° clockwise to view):
    its left half red, its right half blue, so upright it is red above and blue below."""
    image = Image.new("RGB", (width, height), "#dc2626")
    ImageDraw.Draw(image).rectangle((width // 2, 0, width, height), fill="#2563eb")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def gps_of(data: bytes) -> dict:
    """The GPS block of an image's EXIF ({} when there is none)."""
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo))


ORIENTATION = ExifTags.Base.Orientation


def exif_of(data: bytes) -> dict:
    return dict(Image.open(io.BytesIO(data)).getexif())


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def pdf(text: str = "Invoice 2026-11") -> bytes:
    """A one-page PDF (Pillow writes real PDFs)."""
    image = Image.new("RGB", (595, 842), "white")
    ImageDraw.Draw(image).text((72, 72), text, fill="black")
    out = io.BytesIO()
    image.save(out, "PDF")
    return out.getvalue()


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b'<script>alert(document.domain)</script></svg>')
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
