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
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from mailsetup.errors import OutputError
from mailsetup.model import OutputFile

__all__ = [
    "OutputFile",
    "StagedWrites",
    "guard_stdout",
    "write_atomic",
    "write_files",
    "write_stdout",
]


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Advice every writer can follow: profile chooses with -o, inspect --split with --output-dir.
_ELSEWHERE = (
    "write elsewhere: profile -o PATH (or -o - for standard output), inspect --output-dir DIR"
)


def _check_target(path: Path, force: bool) -> None:
    """Refuse what must not be written: a missing folder, a folder, an existing name without
    ``force``, and (even with ``force``) anything that is not a regular file.

    ``--force`` replaces a file; it never turns a device, FIFO, socket or symbolic link into a
    regular file (as root, ``-o /dev/null --force`` would otherwise destroy /dev/null). The
    check uses ``lstat``, so a link is seen as a link, not as what it points to.
    """
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"the folder {str(folder)!r} does not exist", f"create it first: mkdir -p {folder}"
        )
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot inspect {str(path)!r}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{str(path)!r} is a folder", _ELSEWHERE)
    if not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        raise OutputError(
            f"{str(path)!r} is {kind}; mailsetup only replaces regular files",
            _ELSEWHERE,
        )
    if not force:
        raise OutputError(f"{str(path)!r} already exists", "pass --force to replace it")


def check_name(name: str) -> str:
    """A file name from a renderer must be one plain name: it can never leave ``-o``'s folder."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise OutputError(f"refusing the file name {name!r}: it is not a plain file name")
    return name


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


def move_into_place(
    tmp: Path, path: Path, force: bool, *, exists: OutputError | None = None
) -> None:
    """Move a staged file into place: replace with ``force``, else never over an existing name.

    ``exists`` is raised when the name is taken (default: "already exists, pass --force").
    """
    try:
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise exists or OutputError(
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
                move_into_place(tmp, path, self.force)
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

    ``make_dir`` creates ``target`` and any missing parents (``mkdir -p``): a folder named with
    ``-o`` for a client that writes several files is made, as docs/ and the README say.
    """
    if make_dir:
        make_folder(target)
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"{str(target)!r} is a file, not a folder",
            "this client writes several files: give a folder with -o DIR",
        )
    if not target.is_dir():
        raise OutputError(
            f"the folder {str(target)!r} does not exist", f"create it first: mkdir -p {target}"
        )
    paths = [target / check_name(f.name) for f in files]
    for path in paths:  # every name before any write: the first problem, not the last
        _check_target(path, force)
    with StagedWrites(force=force) as batch:
        for path, f in zip(paths, files, strict=True):
            batch.add(path, f.data, secret=f.secret)
        return batch.commit()


def make_folder(target: Path) -> None:
    """Create ``target`` with its parents; an existing non-folder is left for the caller."""
    if target.exists() or target.is_symlink():
        return
    try:
        target.mkdir(parents=True)
    except FileExistsError:
        pass
    except OSError as exc:
        raise OutputError(f"cannot create {str(target)!r}: {exc.strerror}") from None


def write_stdout(files: list[OutputFile]) -> None:
    """``-o -``: one file's bytes to standard output (pipes, ``| ssh host 'cat > x'``)."""
    if len(files) != 1:
        raise OutputError("this client writes several files", "give a folder with -o DIR")
    sys.stdout.flush()
    sys.stdout.buffer.write(files[0].data)
    sys.stdout.buffer.flush()


def _stdout_failed(exc: OSError) -> OutputError:
    """Standard output cannot take our bytes (``> /dev/full``, a reader that went away).

    Whatever was not written is lost, so this is exit 4 (output), not a quiet success: a
    script piping ``mailsetup profile -o -`` into another program must see that it failed.
    Standard output is pointed at /dev/null afterwards so that Python's own flush at exit
    cannot add a second message.
    """
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    reason = "the reader closed the pipe" if isinstance(exc, BrokenPipeError) else exc.strerror
    error = OutputError(f"cannot write to standard output: {reason or exc}")
    _FAILURES.append(error)
    return error


# Every standard-output failure seen, even one a library caught and went on from (click probes
# the stream with a write inside try/except before printing --help): the entry point turns a
# run that claims success into exit 4 when anything is here (:func:`stdout_failure`).
_FAILURES: list[OutputError] = []


def stdout_failure() -> OutputError | None:
    """The first failed write to standard output of this run, or ``None``."""
    return _FAILURES[0] if _FAILURES else None


class _Guarded:
    """A stream whose write and flush failures become :class:`OutputError` (exit 4)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: Any) -> int:
        try:
            return int(self._stream.write(data))
        except OSError as exc:
            raise _stdout_failed(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _stdout_failed(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _GuardedText(_Guarded):
    @property
    def buffer(self) -> _Guarded:
        return _Guarded(self._stream.buffer)


def guard_stdout() -> None:
    """Make every failed write to standard output, by any command, one exit-4 error line."""
    if not isinstance(sys.stdout, _Guarded) and sys.stdout is not None:
        sys.stdout = _GuardedText(sys.stdout)
