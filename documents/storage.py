"""Where the archive's files live: content-addressed by sha256, each stored once.

The archive talks to a ``FileStore``; ``LocalFileStore`` keeps files under var/files, and an
S3-compatible store can be added behind the same four methods. ``MemoryFileStore`` is the
test double.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

import msgspec

CHUNK = 1024 * 1024


class StoredFile(msgspec.Struct, frozen=True):
    sha256: str
    size: int


class TooLarge(Exception):
    """The upload passed the size limit while it was being stored."""


def _full_disk(error: BaseException) -> Exception | None:
    """A full disk as the error users are shown (503 storage_full)."""
    if isinstance(error, OSError) and error.errno in {errno.ENOSPC, errno.EDQUOT}:
        from congress.database import StorageFull

        return StorageFull()
    return None


class FileStore(Protocol):
    def put(self, source: IO[bytes], max_size: int) -> StoredFile: ...

    def open(self, sha256: str) -> IO[bytes]: ...

    def exists(self, sha256: str) -> bool: ...

    def all(self) -> Iterator[str]: ...


def _valid(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return sha256


class LocalFileStore:
    """Files at root/ab/cd/<sha256>, written to a temporary file and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        _valid(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: IO[bytes], max_size: int) -> StoredFile:
        """Stores the file whole or not at all: on any failure (a full disk, too large) the
        temporary file goes, and no half file ever stands under a sha256."""
        try:
            return self._put(source, max_size)
        except OSError as error:
            if full := _full_disk(error):
                raise full from error
            raise

    def _put(self, source: IO[bytes], max_size: int) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".upload-", delete=False) as out:
            try:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > max_size:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
                out.close()
                target = self.path(digest.hexdigest())
                if target.exists():
                    os.unlink(out.name)  # identical content is stored once
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.chmod(out.name, 0o440)
                    os.replace(out.name, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    out.close()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(out.name)
                raise
        return StoredFile(sha256=digest.hexdigest(), size=size)

    def open(self, sha256: str) -> IO[bytes]:
        return self.path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def all(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in self.root.glob("??/??/*"):
            if path.is_file() and not path.name.startswith("."):
                yield path.name


class MemoryFileStore:
    """The test double: files in a dict."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, source: IO[bytes], max_size: int) -> StoredFile:
        content = source.read(max_size + 1)
        if len(content) > max_size:
            raise TooLarge
        sha256 = hashlib.sha256(content).hexdigest()
        self.files.setdefault(sha256, content)
        return StoredFile(sha256=sha256, size=len(content))

    def open(self, sha256: str) -> IO[bytes]:
        import io

        return io.BytesIO(self.files[_valid(sha256)])

    def exists(self, sha256: str) -> bool:
        return sha256 in self.files

    def all(self) -> Iterator[str]:
        yield from self.files


_store: FileStore | None = None


def file_store() -> FileStore:
    """The store of this process: var/files unless a test installed another."""
    global _store
    if _store is None:
        from congress.settings import get_settings

        _store = LocalFileStore(get_settings().var_dir / "files")
    return _store


def use_file_store(store: FileStore | None) -> None:
    global _store
    _store = store
