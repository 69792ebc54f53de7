"""Write rendered files without ever losing data.

Every write goes to a temporary file in the destination folder, is flushed to disk, then
moved into place: a crash leaves either the old file or the new one, never half of either.
Without ``force`` the final step is ``os.link``, which fails atomically if the name exists, so
there is no window between "check it does not exist" and "write it". Files holding a secret
are created ``0600`` from the start (the temporary file is private before a byte is written).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from pathlib import Path

from mailsetup.errors import OutputError
from mailsetup.model import OutputFile

__all__ = ["OutputFile", "StagedWrites", "write_atomic", "write_files", "write_stdout"]


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_target(path: Path, force: bool) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"the folder {str(folder)!r} does not exist", f"create it first: mkdir -p {folder}"
        )
    if path.is_dir():
        raise OutputError(f"{str(path)!r} is a folder", "give a file name with -o")
    if path.exists() and not force:
        raise OutputError(f"{str(path)!r} already exists", "pass --force to replace it")


def _stage(path: Path, data: bytes, secret: bool) -> Path:
    """Write ``data`` to a synced temporary file beside ``path``; return its path."""
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except PermissionError:
        raise OutputError(
            f"cannot write in {str(folder)!r}: permission denied", "choose another folder with -o"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot write in {str(folder)!r}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        # mkstemp creates 0600; widen only for files without a secret.
        if not secret:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o644 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        raise
    return tmp


def _commit(tmp: Path, path: Path, force: bool) -> None:
    """Move a staged file into place: replace with ``force``, else never over an existing name."""
    try:
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise OutputError(
                    f"{str(path)!r} already exists", "pass --force to replace it"
                ) from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                    raise
                # File systems without hard links: rename, after the existence check above.
                os.rename(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class StagedWrites:
    """Several files that appear together or not at all (a bundle, the parts of a split).

    Each :meth:`add` writes a synced temporary file at once, so only one file's bytes are in
    memory; :meth:`commit` moves them all into place. A failure before the commit leaves no
    file and no litter; a failure during it removes the new names this batch created.
    """

    def __init__(self, *, force: bool = False) -> None:
        self.force = force
        self.staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> StagedWrites:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def add(self, path: Path, data: bytes, *, secret: bool = False) -> None:
        _check_target(path, self.force)
        self.staged.append((_stage(path, data, secret), path))

    def discard(self) -> None:
        for tmp, _ in self.staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.staged = []

    def commit(self) -> list[Path]:
        done: list[Path] = []
        try:
            for tmp, path in self.staged:
                _commit(tmp, path, self.force)
                done.append(path)
        except BaseException:
            if not self.force:  # these names did not exist before this batch
                for path in done:
                    with contextlib.suppress(OSError):
                        path.unlink()
            raise
        finally:
            self.discard()
        folders = {path.parent for path in done}
        for folder in folders:
            _fsync_dir(folder)
        return done


def write_atomic(path: Path, data: bytes, *, force: bool = False, secret: bool = False) -> None:
    """Write ``data`` to ``path`` atomically: mode 0600 if ``secret``, else 0644 less umask."""
    with StagedWrites(force=force) as batch:
        batch.add(path, data, secret=secret)
        batch.commit()


def write_files(
    target: Path, files: list[OutputFile], *, force: bool = False, make_dir: bool = False
) -> list[Path]:
    """Write ``files`` into the folder ``target``: all of them, or (on any failure) none.

    ``make_dir`` creates ``target`` itself (not its parents) for multi-file outputs.
    """
    if make_dir and not target.exists() and target.parent.is_dir():
        try:
            target.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot create {str(target)!r}: {exc.strerror}") from None
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"{str(target)!r} is a file, not a folder",
            "this client writes several files: give a folder with -o DIR",
        )
    if not target.is_dir():
        raise OutputError(
            f"the folder {str(target)!r} does not exist", f"create it first: mkdir -p {target}"
        )
    paths = [target / f.name for f in files]
    for path in paths:  # every name before any write: the first problem, not the last
        _check_target(path, force)
    with StagedWrites(force=force) as batch:
        for path, f in zip(paths, files, strict=True):
            batch.add(path, f.data, secret=f.secret)
        return batch.commit()


def write_stdout(files: list[OutputFile]) -> None:
    """``-o -``: one file's bytes to standard output (pipes, ``| ssh host 'cat > x'``)."""
    if len(files) != 1:
        raise OutputError("this client writes several files", "give a folder with -o DIR")
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(files[0].data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise  # the reader went away (``| head``): click ends quietly, as other tools do
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None
