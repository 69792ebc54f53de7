"""Write every row's files into one folder, and ``index.csv`` beside them.

The rules (docs/organisations.md), and why:

- **One output per row, named from the address** (:func:`row_targets`): a single file such as
  ``jane.doe@example.ch.mobileconfig``, or a folder ``jane.doe@example.ch-thunderbird/`` for
  clients that write several files: the names a single run uses without ``-o``. Names are
  made safe (:func:`mailsetup.model.safe_file_name`) and always stay inside the output folder,
  whatever the address holds.
- **Re-runs are cheap and honest**: renderers are deterministic, so the same CSV gives the same
  bytes; a file whose bytes are already on disk is reported ``unchanged`` and not touched (its
  modification time stays, so a sync tool or a backup sees no change); a file whose bytes
  differ is only replaced with ``force``, otherwise that row fails and says so.
- **Nothing half-written**: every file is written complete before it gets its name, unnamed
  (Linux ``O_TMPFILE``) or under a temporary name (:mod:`mailsetup.team.staging`), and named
  with ``link``, which cannot overwrite (``replace`` only with force). Calling ``fsync`` per
  file would cost ~0.4 ms each here, more than rendering; instead the staged files of a batch
  are flushed with one ``syncfs`` before any of them is named, which keeps the guarantee (data
  on disk before the name points at it) for one flush per :data:`BATCH_ROWS` rows (fewer when
  unnamed files would hold too many descriptors). Ctrl-C or an error drops the staged files;
  what was named is complete.
- **All or nothing on request** (``atomic``): every file is staged first (under temporary
  names: a whole run's files cannot all hold a descriptor) and moved into place only if every
  row is good.
- **index.csv** lists, per file, the spreadsheet row, the address, the file's path relative to
  the folder, its SHA-256, what happened (``written``, ``replaced``, ``unchanged``, ``failed``)
  and the reason of a failure, so the helper can mail each person their file and check what
  arrived. It is rewritten by every run (it records that run) and only over an index.csv that
  mailsetup wrote, unless ``force``. Cells that a spreadsheet would run as a formula (starting
  with ``= + - @``, OWASP's CSV-injection rule) get a leading apostrophe.
"""

# Per-file paths are plain strings here, not pathlib (see BulkWriter.__init__):
# ruff: noqa: PTH102, PTH106, PTH108, PTH110, PTH112, PTH113, PTH114, PTH118, PTH119, PTH120, PTH123
from __future__ import annotations

import contextlib
import csv
import filecmp
import hashlib
import os
import signal
import stat
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from mailsetup.errors import OutputError
from mailsetup.model import OutputFile, safe_file_name
from mailsetup.team.rows import name_key
from mailsetup.team.staging import Staged, Stager

INDEX_NAME = "index.csv"
INDEX_HEADER = ("row", "email", "file", "sha256", "status", "reason")
BATCH_ROWS = 500


class RowProblem(Exception):
    """One row cannot be written (a conflicting file, a name clash); the run goes on."""


@dataclass(frozen=True)
class Planned:
    """One file of a row: where it goes (relative to the folder), its bytes, its fate."""

    rel: str
    data: bytes
    sha256: str
    status: str  # written, replaced, unchanged (or "would ..." in a dry run)


@dataclass
class Tally:
    """Counts for the summary line."""

    rows: int = 0
    failed_rows: int = 0
    files: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> None:
        self.files[status] = self.files.get(status, 0) + 1


def row_targets(
    email: str, default: str, named_after_address: bool, folder: bool, files: list[OutputFile]
) -> list[tuple[str, OutputFile]]:
    """Where each rendered file of one row goes, relative to the output folder.

    ``default`` is the registry's name for the client's output without ``-o``, already made
    safe (``jane@x.ch.mobileconfig``, ``jane@x.ch-thunderbird``): the same name as a single
    run. A name that does not hold the address (``autodiscover.xml``) gets it in front, so that
    every row has its own.
    """
    if not named_after_address:
        default = safe_file_name(f"{email}-{default}")
    if folder:
        # render() has made every file name safe already (one plain name each).
        return [(f"{default}/{f.name}", f) for f in files]
    return [(default, f) for f in files]


def _formula_safe(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


class BulkWriter:
    """Stage, check and move into place the files of many rows; keep the index.

    Use as a context manager: leaving it without :meth:`finish` (an error, Ctrl-C) removes
    every temporary file; in the default mode the rows already moved into place stay and the
    index lists exactly those.
    """

    def __init__(
        self, out: Path, *, force: bool = False, dry_run: bool = False, atomic: bool = False
    ) -> None:
        self.out = out
        self.force = force
        self.dry_run = dry_run
        self.atomic = atomic
        self.tally = Tally()
        self.committed_rows = 0
        self.last_row = 0
        self._names: dict[int, int] = {}  # name_key(top-level name) -> row that claimed it
        # Per-file paths are plain strings: pathlib interns every part it parses, a table that
        # would grow with every file name of a 10,000-row run and never shrink.
        self._dir = os.fspath(out)
        self._stager: Stager | None = None
        # Per row: its staged files (file, path relative to the folder, status), index lines.
        self._pending: deque[tuple[list[tuple[Staged, str, str]], list[tuple[str, ...]]]] = deque()
        self._open_files = 0  # unnamed staged files in _pending, each holding a descriptor
        self._created: list[str] = []
        self._index_tmp: str | None = None
        self._index: TextIO | None = None
        self._index_writer: csv._writer | None = None  # type: ignore[name-defined]
        self._index_failed = False
        self.finished = False
        # The folder was missing or empty when the run started: no row's name can be taken
        # but by an earlier row (``_names``), so nothing is compared with the disk. Anything
        # another program puts there meanwhile still stops the run at the link (EEXIST),
        # never overwritten.
        self._fresh = False

    # --- set-up -----------------------------------------------------------------------------

    def __enter__(self) -> BulkWriter:
        self._prepare_folder()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.finished:
            self.abort()

    def _prepare_folder(self) -> None:
        out = self.out
        if not out.is_dir() and (out.exists() or out.is_symlink()):  # a link to a folder is fine
            raise OutputError(f"{str(out)!r} is not a folder", "give a folder with -o DIR")
        self._fresh = not out.is_dir() or _empty(self._dir)
        if not self.dry_run:
            from mailsetup.output import make_folder

            make_folder(out)  # with its parents, as for any client that writes a folder
        index = out / INDEX_NAME
        if index.is_symlink() or (index.exists() and not index.is_file()):
            raise OutputError(
                f"{str(index)!r} is not a regular file", "remove it or use another -o"
            )
        if index.exists() and not self.force:
            with index.open("rb") as fh:
                first = fh.readline().decode("utf-8", "replace").strip()
            if first != ",".join(INDEX_HEADER):
                raise OutputError(
                    f"{str(index)!r} exists and was not written by mailsetup",
                    "pass --force to replace it, or use another -o",
                )
        if self.dry_run:
            return
        self._stager = Stager(self._dir, unnamed=False if self.atomic else None)
        self._index_tmp = self._stager.tmp_path("index")
        try:
            fd = os.open(self._index_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write in {str(out)!r}: {exc.strerror}") from None
        self._index = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._index_writer = csv.writer(self._index, lineterminator="\r\n")
        self._write_index([INDEX_HEADER])

    # --- rows -------------------------------------------------------------------------------

    def plan(self, number: int, targets: list[tuple[str, OutputFile]]) -> list[Planned]:
        """What writing these files would do; :class:`RowProblem` if the row cannot be written."""
        # A row owns the top-level names it writes (its file, or its folder). Different
        # addresses can still meet in one name once made safe ("a/b@x" and "a_b@x"), or
        # differ only in case (one name on macOS and Windows).
        tops = {name_key(top): top for top in {rel.split("/", 1)[0] for rel, _ in targets}}
        for key, top in tops.items():
            owner = self._names.get(key)
            if owner is not None and owner != number:
                raise RowProblem(f"file name {top!r} is already used by row {owner}")
        if self._fresh:
            new = "would write" if self.dry_run else "written"
            result = [
                Planned(rel, f.data, hashlib.sha256(f.data).hexdigest(), new) for rel, f in targets
            ]
        else:
            folders = {rel.split("/", 1)[0] for rel, _ in targets if "/" in rel}
            for folder in folders:
                path = os.path.join(self._dir, folder)
                if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
                    raise RowProblem(f"{folder!r} exists and is not a folder")
            result = [
                Planned(rel, f.data, hashlib.sha256(f.data).hexdigest(), self._status(rel, f.data))
                for rel, f in targets
            ]
        for key in tops:
            self._names[key] = number
        return result

    def _status(self, rel: str, data: bytes) -> str:
        path = os.path.join(self._dir, rel)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return "would write" if self.dry_run else "written"
        except NotADirectoryError:
            raise RowProblem(f"{rel!r}: a parent is not a folder") from None
        if not stat.S_ISREG(st.st_mode):
            raise RowProblem(f"{rel!r} exists and is not a regular file (left alone)")
        if st.st_size == len(data):
            try:
                same = _read(path) == data
            except OSError as exc:
                raise RowProblem(f"cannot read {rel!r}: {exc.strerror}") from None
            if same:
                return "unchanged"
        if not self.force:
            raise RowProblem(f"{rel!r} exists with other content (pass --force to replace it)")
        return "would replace" if self.dry_run else "replaced"

    def add(self, number: int, email: str, files: list[Planned]) -> None:
        """Stage one good row's files; they reach their names at the next batch commit."""
        self.last_row = number
        self.tally.rows += 1
        entries: list[tuple[str, ...]] = [
            (str(number), email, p.rel, p.sha256, p.status, "") for p in files
        ]
        staged: list[tuple[Staged, str, str]] = []
        stager = self._stager  # None in a dry run: nothing is staged
        if stager is not None:
            try:
                for p in files:
                    if p.status != "unchanged":
                        staged.append((stager.write(p.rel, p.data), p.rel, p.status))
            except BaseException:
                for s, _rel, _status in staged:
                    stager.drop(s)
                raise
            self._open_files += sum(isinstance(s, int) for s, _, _ in staged)
        for p in files:
            self.tally.count(p.status)
        self._pending.append((staged, entries))
        full = len(self._pending) >= BATCH_ROWS or (
            stager is not None and 0 < stager.max_open <= self._open_files
        )
        if full and not self.atomic:
            self.commit()

    def fail(self, number: int, email: str, reason: str) -> None:
        """Record a row that cannot be used; it is listed in the index with its reason."""
        self.last_row = number
        self.tally.rows += 1
        self.tally.failed_rows += 1
        entry: tuple[str, ...] = (str(number), email, "", "", "failed", reason)
        self._pending.append(([], [entry]))

    # --- commit -----------------------------------------------------------------------------

    def commit(self) -> None:
        """Move every staged file into place (after one sync), then index those rows.

        Ctrl-C waits until the batch is done (a few milliseconds), so that every file in place
        is in the index and every index line has its file.
        """
        if self.dry_run:
            self._pending.clear()
            return
        with _interrupt_deferred():
            self._commit_pending()

    def _commit_pending(self) -> None:
        stager = self._stager
        assert stager is not None and self._index_writer is not None
        if any(staged for staged, _ in self._pending):
            stager.sync()
        # Each staged file leaves _pending as it is named (name() consumes it, even when it
        # fails), so that an error here leaves abort() only files that are still staged.
        pending = self._pending
        while pending:
            staged, entries = pending[0]
            while staged:
                s, rel, status = staged.pop(0)
                self._open_files -= isinstance(s, int)
                self._move(stager, s, rel, status)
            self._write_index(_formula_row(e) for e in entries)
            pending.popleft()
            self.committed_rows += 1
        self._created = []

    def _write_index(self, rows: Iterable[Sequence[str]]) -> None:
        """Add rows to the staged index.csv; a write the disk refuses (full, a size limit) is
        the one-line exit 4, not a traceback. The index is then never put in place."""
        assert self._index_writer is not None
        try:
            self._index_writer.writerows(rows)
        except OSError as exc:
            self._index_failed = True  # what it holds is cut short: never put it in place
            raise OutputError(f"cannot write {INDEX_NAME}: {exc.strerror or exc}") from None

    def _move(self, stager: Stager, staged: Staged, rel: str, status: str) -> None:
        path = os.path.join(self._dir, rel)
        try:
            parent = os.path.dirname(path)
            if parent != self._dir and not os.path.isdir(parent):
                os.mkdir(parent)
                self._created.append(parent)
        except OSError as exc:
            stager.drop(staged)
            raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        appeared = OutputError(
            f"{str(path)!r} appeared while writing", "run again to see what changed"
        )
        stager.name(staged, rel, replace=status == "replaced", exists=appeared)
        if status != "replaced":
            self._created.append(path)

    def finish(self) -> None:
        """Commit what is staged and put index.csv in place (unchanged index: not rewritten)."""
        try:
            self.commit()
        except BaseException:
            if self.atomic:
                self._undo_created()
            raise
        self.finished = True
        try:
            self._close_index(keep=True)
        finally:
            self._close_stager()

    def stop(self) -> None:
        """Ctrl-C: without ``atomic``, move the rows already staged (complete files) into place
        and index them; then drop anything else. With ``atomic``, drop everything."""
        if not self.atomic:
            with contextlib.suppress(Exception):
                self.commit()
        self.abort()

    def abort(self) -> None:
        """Drop what is staged; without ``atomic`` keep an index of the rows already in place."""
        self.finished = True
        stager = self._stager
        if stager is not None:
            for staged, _ in self._pending:
                for s, _rel, _status in staged:
                    stager.drop(s)
            stager.sweep(keep=os.path.basename(self._index_tmp) if self._index_tmp else None)
        self._pending.clear()
        self._open_files = 0
        try:
            keep = not self.atomic and self.committed_rows > 0 and not self._index_failed
            self._close_index(keep=keep)
        finally:
            self._close_stager()

    def _close_stager(self) -> None:
        if self._stager is not None:
            self._stager.close()
            self._stager = None

    def _undo_created(self) -> None:
        for path in reversed(self._created):
            with contextlib.suppress(OSError):
                os.rmdir(path) if os.path.isdir(path) else os.unlink(path)

    def _close_index(self, *, keep: bool) -> None:
        if self._index is None or self._index_tmp is None:
            return
        tmp = self._index_tmp
        index, self._index = self._index, None
        try:
            index.close()  # its last buffered lines: a full disk shows here or at the fsync
            target = os.path.join(self._dir, INDEX_NAME)
            if keep:
                # Compared in blocks: the index of a large team is megabytes.
                if os.path.isfile(target) and filecmp.cmp(tmp, target, shallow=False):
                    self.index_status = "unchanged"
                else:
                    _sync_file(tmp)
                    os.replace(tmp, target)
                    self.index_status = "written"
        except OSError as exc:
            raise OutputError(f"cannot write {INDEX_NAME}: {exc.strerror or exc}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    index_status = "not written"


def _formula_row(entry: tuple[str, ...]) -> tuple[str, ...]:
    row, email, rel, sha, status, reason = entry
    return (row, _formula_safe(email), _formula_safe(rel), sha, status, _formula_safe(reason))


@contextlib.contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Hold SIGINT until the block is done, then raise KeyboardInterrupt as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _empty(folder: str) -> bool:
    """Nothing in ``folder``; a folder that cannot be listed counts as not empty (compared)."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _sync_file(path: str) -> None:
    """The file's data on disk before it is named; a failure (a full disk) is the caller's
    error, unlike a folder's sync (output.py), which some file systems cannot do at all."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
