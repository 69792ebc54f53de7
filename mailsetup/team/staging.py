"""Files written complete before they get a name, for the many-file writer (:mod:`.bulk`).

Two ways to stage a file in the output folder, chosen once per folder:

- **Unnamed** (Linux ``O_TMPFILE``): the file is created without any name, written, and given
  its final name with ``linkat`` through ``/proc/self/fd``. ``linkat`` is atomic and never
  replaces an existing name (``EEXIST``: the caller's conflict path). A file that is never
  named (an error, Ctrl-C, even ``kill -9``) disappears with its descriptor: no temporary
  name to clean up, none that a crash can leave. Why it is the default: a temporary name costs
  a second directory entry and an unlink per file, and on ext4 without a journal every
  unlinked inode is skipped by the inode allocator for a minute after (``recently_deleted``),
  so each new file scanned past all the earlier ones: about 0.1 ms a file at 10,000 rows.
- **Named** (everywhere else, and for ``--atomic``): a temporary name ``.<hint>.<pid>.<n>.tmp``
  created with ``O_EXCL``, then ``link`` (never over an existing name) and unlink, or
  ``replace`` with force (:func:`mailsetup.output.move_into_place`); :meth:`Stager.sweep`
  removes this process's leftovers.

The unnamed way is chosen only after a probe in the folder itself succeeds (create unnamed,
link under a temporary name, unlink): a kernel or file system without ``O_TMPFILE``
(``EOPNOTSUPP``, ``EISDIR`` on old kernels, ``EINVAL``), a missing ``/proc`` or a sandbox
that refuses the link all fall back to named files before any row is staged. An unnamed file
holds a descriptor until it is named, so a batch holds at most :attr:`Stager.max_open` of them;
``--atomic`` keeps every file of the run staged, so it uses named files.

Data reaches the disk before any name points at it: :meth:`Stager.sync` runs once per batch,
before the names. It is ``syncfs(2)`` on the output folder's file system (through libc; Python
has no ``os.syncfs``) rather than ``sync(2)``: it flushes what this run wrote, not every file
system of a shared machine, and it reports a write-back error (Linux 5.8+) that ``sync``
would swallow, so a batch whose data did not reach the disk is not named. ``os.sync`` remains
where ``syncfs`` does not exist.
"""

# Paths are plain strings (see BulkWriter.__init__):
# ruff: noqa: PTH108, PTH118, PTH119
from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
from collections.abc import Callable
from pathlib import Path

from mailsetup.errors import OutputError

# An unnamed file's open descriptor, or a named temporary file's path.
Staged = int | str

_tmp_counter = itertools.count()
# What the probe may meet where unnamed files cannot work: no O_TMPFILE in the kernel or the
# file system (EOPNOTSUPP, EISDIR, EINVAL, ENOSYS), no /proc (ENOENT), a sandbox (EPERM,
# EACCES, EXDEV). Named files then either work or fail with their own clear error.
_UNSUPPORTED = frozenset(
    {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS}
    | {errno.ENOENT, errno.EXDEV, errno.EPERM, errno.EACCES}
)


def _open_unnamed(dir_fd: int) -> int:
    """An unnamed, writable file in the folder of ``dir_fd`` (0644 less the umask)."""
    return os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o644, dir_fd=dir_fd)


def _link_unnamed(fd: int, rel: str, dir_fd: int) -> None:
    # dst_dir_fd makes CPython call linkat(AT_SYMLINK_FOLLOW), which follows the /proc link
    # to the file; a bare os.link() calls link(2), which links the /proc entry itself (EXDEV).
    os.link(f"/proc/self/fd/{fd}", rel, dst_dir_fd=dir_fd, follow_symlinks=True)


def _libc_syncfs() -> Callable[[int], int] | None:
    try:
        import ctypes

        syncfs: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError, TypeError):  # no libc to load, or no syncfs in it
        return None
    return syncfs


class Stager:
    """Stage files in one folder and give them their names (see the module docstring).

    ``unnamed``: ``None`` probes the folder; ``False`` forces named temporary files (for
    ``--atomic``, and to test that way on a system that has ``O_TMPFILE``).
    """

    def __init__(self, folder: str, *, unnamed: bool | None = None) -> None:
        self.folder = folder
        # The folder's descriptor, where unnamed files and syncfs can exist (Linux): both work
        # through it. Elsewhere paths only, as the rest of mailsetup.
        self._dir_fd: int | None = None
        if hasattr(os, "O_TMPFILE"):
            try:
                self._dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                raise OutputError(f"cannot write in {folder!r}: {exc.strerror}") from None
        try:
            self.unnamed = unnamed is not False and self._dir_fd is not None and self._probe()
        except BaseException:
            self.close()
            raise
        self.max_open = _fd_budget() if self.unnamed else 0
        self._syncfs = _libc_syncfs() if self._dir_fd is not None else None

    def _probe(self) -> bool:
        """Can this folder take unnamed files and name them? Tried once, before any row."""
        assert self._dir_fd is not None
        try:
            fd = _open_unnamed(self._dir_fd)
        except OSError as exc:
            if exc.errno in _UNSUPPORTED:
                return False
            raise OutputError(f"cannot write in {self.folder!r}: {exc.strerror}") from None
        probe = os.path.basename(self.tmp_path("probe"))
        try:
            _link_unnamed(fd, probe, self._dir_fd)
        except OSError as exc:
            if exc.errno in _UNSUPPORTED:
                return False
            raise OutputError(f"cannot write in {self.folder!r}: {exc.strerror}") from None
        finally:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(probe, dir_fd=self._dir_fd)
        return True

    def tmp_path(self, hint: str) -> str:
        """A fresh temporary name in the folder that :meth:`sweep` recognises as this run's."""
        short = hint.replace("/", "_")[:40]  # parts of a safe relative path
        return os.path.join(self.folder, f".{short}.{os.getpid()}.{next(_tmp_counter)}.tmp")

    # --- staging ------------------------------------------------------------------------------

    def write(self, rel: str, data: bytes, *, named: bool = False) -> Staged:
        """Write ``data`` complete, under no name (or a temporary one); nothing points at it."""
        if self.unnamed and not named:
            assert self._dir_fd is not None
            try:
                fd = _open_unnamed(self._dir_fd)
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE):
                    raise OutputError(f"cannot write in {self.folder!r}: {exc.strerror}") from None
                return self.write(rel, data, named=True)  # out of descriptors: this one named
            try:
                _write_all(fd, data)
            except BaseException as exc:
                os.close(fd)
                if isinstance(exc, OSError):
                    raise OutputError(f"cannot write {rel!r}: {exc.strerror}") from None
                raise
            return fd
        tmp = self.tmp_path(rel)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write in {self.folder!r}: {exc.strerror}") from None
        try:
            _write_all(fd, data)
        except BaseException as exc:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise OutputError(f"cannot write {rel!r}: {exc.strerror}") from None
            raise
        os.close(fd)
        return tmp

    def sync(self) -> None:
        """Everything staged so far on disk, before any of it is named (once per batch)."""
        if self._syncfs is not None and self._dir_fd is not None:
            if self._syncfs(self._dir_fd) == 0:
                return
            import ctypes

            code = ctypes.get_errno()
            if code not in (errno.ENOSYS, errno.EINVAL):
                raise OutputError(f"cannot write in {self.folder!r}: {os.strerror(code)}")
        if hasattr(os, "sync"):
            os.sync()

    def name(self, staged: Staged, rel: str, *, replace: bool, exists: OutputError) -> None:
        """Give a staged file its name ``rel`` (relative to the folder); consumes ``staged``.

        Without ``replace`` an existing name is never touched and ``exists`` is raised.
        """
        path = os.path.join(self.folder, rel)
        if isinstance(staged, str):
            from mailsetup.output import move_into_place

            move_into_place(Path(staged), Path(path), replace, exists=exists)
            return
        assert self._dir_fd is not None
        try:
            if replace:
                # linkat cannot replace: name it beside the target, then rename over.
                tmp = self.tmp_path(rel)
                _link_unnamed(staged, tmp, self._dir_fd)
                try:
                    os.replace(tmp, path)
                except BaseException:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                    raise
            else:
                _link_unnamed(staged, rel, self._dir_fd)
        except FileExistsError:
            raise exists from None
        except OSError as exc:
            raise OutputError(f"cannot write {path!r}: {exc.strerror or exc}") from None
        finally:
            os.close(staged)

    def drop(self, staged: Staged) -> None:
        """Forget a staged file: close an unnamed one (it vanishes), unlink a named one."""
        if isinstance(staged, str):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)
        else:
            with contextlib.suppress(OSError):
                os.close(staged)

    def sweep(self, keep: str | None = None) -> None:
        """Remove any temporary name of this process left in the folder (``keep`` excepted).

        Ctrl-C raises between any two bytecodes, also between creating a temporary file and
        remembering it; a sweep by this process's own name pattern catches that case.
        """
        mine = re.compile(rf"^\..*\.{os.getpid()}\.\d+\.tmp$")
        with contextlib.suppress(OSError), os.scandir(self.folder) as entries:
            for entry in entries:
                if mine.match(entry.name) and entry.name != keep:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    def close(self) -> None:
        if self._dir_fd is not None:
            os.close(self._dir_fd)
            self._dir_fd = None


BATCH_FILES = 500


def _fd_budget() -> int:
    """How many unnamed files a batch may hold open: half the descriptor limit, at most
    :data:`BATCH_FILES`, so a library caller's own descriptors keep room."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return 64
    if soft == resource.RLIM_INFINITY:
        return BATCH_FILES
    return max(8, min(BATCH_FILES, soft // 2))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
