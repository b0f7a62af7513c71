"""A text progress bar for management commands: redrawn in place on a terminal, one
line per step of 10 % otherwise (logs, CI)."""

import time


class ProgressBar:
    WIDTH = 30

    def __init__(self, stream, *, label: str, unit: str = "") -> None:
        self.stream = stream
        self.label = label
        self.unit = f" {unit}" if unit else ""
        self.started = time.monotonic()
        self.last_tenth = -1
        self.drawn = False
        self.tty = bool(getattr(getattr(stream, "_out", stream), "isatty", lambda: False)())

    def update(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        filled = int(self.WIDTH * fraction)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        elapsed_s = time.monotonic() - self.started
        line = f"{self.label} [{bar}] {done:,}/{total:,}{self.unit} ({fraction:.0%}, {elapsed_s:.1f} s)"
        if self.tty:
            self.stream.write("\r" + line, ending="")
            self.stream.flush()
            self.drawn = True
        elif int(fraction * 10) > self.last_tenth:
            self.last_tenth = int(fraction * 10)
            self.stream.write(line)

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("")
            self.drawn = False
