"""One progress bar for the command line and the evaluation: tqdm when installed, else a plain one.

``progress(total, desc, enabled)`` returns an object with ``update(n=1)`` and ``close()``; when
``enabled`` is false it draws nothing.  Bars go to stderr, so stdout stays clean for results.
"""
import sys
import threading


class _SimpleBar:
    """A progress bar for when tqdm is not installed (thread-safe: the CLI updates it from
    a pool of threads)."""

    def __init__(self, total, desc, stream):
        self.total, self.desc, self.stream, self.n = total, desc, stream, 0
        self.lock = threading.Lock()

    def update(self, k=1):
        with self.lock:
            self.n += k
            width = 30
            filled = width * self.n // max(1, self.total)
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r{self.desc} [{bar}] {self.n}/{self.total}")
            if self.n >= self.total:
                self.stream.write("\n")
            self.stream.flush()

    def close(self):
        pass


class _NoBar:
    """What ``progress`` returns when the bar is off: the same calls, nothing drawn."""

    def update(self, k=1):
        pass

    def close(self):
        pass


def progress(total, desc="", enabled=True, *, unit="it", leave=True):
    """A bar counting ``total`` items on stderr; ``enabled=False`` gives one that draws nothing."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _SimpleBar(total, desc, sys.stderr)
    return tqdm(total=total, desc=desc, unit=unit, leave=leave, file=sys.stderr)
