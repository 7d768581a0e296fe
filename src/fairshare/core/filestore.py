"""Where private uploads live: one storage, chosen once, shared by every node.

Uploaded files (the photo channel's ID photos) must be readable on every app node,
so with ``FAIRSHARE_NODES`` > 1 they cannot stay on one node's disk.
``FAIRSHARE_PRIVATE_STORAGE`` picks the backend of ``STORAGES["private"]``:

* ``local`` (the default on one node): files under ``PRIVATE_MEDIA_ROOT``, owner-only
  permissions (``LocalPrivateStorage``);
* ``database``: the bytes in the ``core.StoredFile`` table (``DatabaseStorage``), so the
  database that every node already shares holds them, and its backups include them;
* ``s3``: any S3-compatible object store through django-storages (``FAIRSHARE_S3_*``
  settings; docs/deploy.md), private objects, no public URLs.

None of them gives a URL: private files are served only through scoped views that read
them with ``storage.open``. Model fields take ``private_storage`` (a callable, so the
choice is made at run time and migrations do not depend on it).
"""

from __future__ import annotations

import os
from typing import Any, cast

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty

from fairshare.core.models import StoredFile


@deconstructible
class LocalPrivateStorage(FileSystemStorage):
    """Files under settings.PRIVATE_MEDIA_ROOT (read on each use, so tests may move it),
    owner-only permissions, and no URL: they are served only through scoped views."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    # No URL: FileSystemStorage.url() refuses when base_url is None.
    @property
    def base_url(self) -> None:  # type: ignore[override]
        return None


@deconstructible
class DatabaseStorage(Storage):
    """Files as rows of ``core.StoredFile`` (name, bytes). A name is never reused:
    ``get_available_name`` adds a suffix, and the unique constraint is the last guard."""

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if "w" in mode or "a" in mode:
            raise ValueError("DatabaseStorage files are written with save(), not open()")
        row = StoredFile.objects.filter(name=name).values_list("content", flat=True).first()
        if row is None:
            raise FileNotFoundError(name)
        return ContentFile(bytes(row), name=name)

    def _save(self, name: str, content: File[Any]) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        while True:
            try:
                with transaction.atomic():
                    StoredFile.objects.create(name=name, content=data, size=len(data))
                return name
            except IntegrityError:
                name = self.get_available_name(name)

    def delete(self, name: str) -> None:
        StoredFile.objects.filter(name=name).delete()

    def exists(self, name: str) -> bool:
        return StoredFile.objects.filter(name=name).exists()

    def size(self, name: str) -> int:
        size = StoredFile.objects.filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(name)
        return int(size)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = path.rstrip("/") + "/" if path else ""
        names = StoredFile.objects.filter(name__startswith=prefix).values_list("name", flat=True)
        dirs: set[str] = set()
        files: list[str] = []
        for name in names:
            rest = name[len(prefix) :]
            if "/" in rest:
                dirs.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(dirs), sorted(files)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("private files have no URL; serve them through a view")


class _PrivateStorage(LazyObject):  # type: ignore[type-arg]
    """``STORAGES["private"]``, looked up on first use (and again after the setting
    changes, in tests): a model field keeps this object, not the backend it chose."""

    def _setup(self) -> None:
        self._wrapped = storages["private"]


_private = _PrivateStorage()


@receiver(setting_changed)
def _storages_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        _private._wrapped = empty  # type: ignore[assignment]


def private_storage() -> Storage:
    """The private uploads' storage (``STORAGES["private"]``), for model fields."""
    return cast(Storage, _private)
