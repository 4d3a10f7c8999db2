"""Uploaded images: checked, re-encoded without metadata, resized, with a thumbnail.

Plain Python (no flask): the caller passes the bytes, the limits and the media directory.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from marketplace.common import N_, ValidationError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_SIDE = 1600
THUMB_SIDE = 480


@dataclass(frozen=True)
class StoredImage:
    key: str
    width: int
    height: int


def image_path(media_root: str | Path, key: str, *, thumb: bool = False) -> Path:
    """Where an image is kept: <root>/<first two chars>/<key>[_thumb].jpg."""
    name = f"{key}_thumb.jpg" if thumb else f"{key}.jpg"
    return Path(media_root) / key[:2] / name


def image_relpath(key: str, *, thumb: bool = False) -> str:
    """The path below the media root (used in URLs)."""
    return f"{key[:2]}/{key}_thumb.jpg" if thumb else f"{key[:2]}/{key}.jpg"


def store_image(
    data: bytes,
    media_root: str | Path,
    *,
    max_bytes: int,
    max_pixels: int,
    field: str = "photo",
) -> StoredImage:
    """Check an upload and store it as a clean JPEG plus thumbnail. Raises ValidationError."""
    if not data:
        raise ValidationError(N_("The file is empty."), field=field)
    if len(data) > max_bytes:
        raise ValidationError(
            N_("The file is too large (at most %(mb)d MB)."), field=field, mb=max_bytes // (1024 * 1024)
        )
    try:
        with warnings.catch_warnings():
            # Pillow warns before it raises on decompression bombs; treat the warning as the error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise ValidationError(
                        N_("Upload a JPEG, PNG, WebP or GIF image."), field=field
                    )
                width, height = probe.size
                # The header is read before any pixel: refuse huge canvases before decoding them.
                if width * height > max_pixels:
                    raise ValidationError(
                        N_("The image is too large (at most %(mp)d megapixels)."),
                        field=field,
                        mp=max_pixels // 1_000_000,
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                upright: Image.Image = ImageOps.exif_transpose(opened) or opened
                rgb = _to_rgb(upright)
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(N_("Upload a JPEG, PNG, WebP or GIF image."), field=field) from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError(N_("The image file is damaged or not an image."), field=field) from None

    rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    key = secrets.token_hex(16)
    main = image_path(media_root, key)
    main.parent.mkdir(parents=True, exist_ok=True)
    # A fresh save writes no EXIF/GPS/ICC metadata: nothing of the phone's location leaks.
    rgb.save(main, "JPEG", quality=85, optimize=True, progressive=True)
    thumb = rgb.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumb.save(image_path(media_root, key, thumb=True), "JPEG", quality=80, optimize=True)
    return StoredImage(key=key, width=rgb.width, height=rgb.height)


def delete_image(media_root: str | Path, key: str) -> None:
    """Remove an image and its thumbnail (missing files are fine)."""
    for thumb in (False, True):
        image_path(media_root, key, thumb=thumb).unlink(missing_ok=True)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


# --- Files follow the database transaction ------------------------------------------------------------
# A picture is written before its row is committed, and a replaced or removed picture must outlive a
# rollback. So services register files with the session: new files are deleted if the transaction does not
# commit; files to remove are deleted only once it has committed.

_NEW = "media_new_files"
_DOOMED = "media_doomed_files"


def keep_if_committed(session: Session, media_root: str | Path, key: str) -> None:
    """A new picture: deleted again unless the session's transaction commits."""
    session.info.setdefault(_NEW, []).append((str(media_root), key))


def delete_when_committed(session: Session, media_root: str | Path, key: str) -> None:
    """A picture no longer used: deleted once (and only if) the transaction commits."""
    session.info.setdefault(_DOOMED, []).append((str(media_root), key))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NEW, None)
    for media_root, key in session.info.pop(_DOOMED, []):
        delete_image(media_root, key)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint or subtransaction: the outer transaction decides
    # Still listed here means no commit happened (rollback or close): undo the new files.
    session.info.pop(_DOOMED, None)
    for media_root, key in session.info.pop(_NEW, []):
        delete_image(media_root, key)
