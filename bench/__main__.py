"""`make bench`: run every benchmark, print each figure beside its baseline measured
in the same run, and write all figures to bench/results.json keyed by name.

Each module in BENCHMARKS exposes `run(report: Report) -> None`.
Run one with `python -m bench NAME [NAME ...]`.
"""

import importlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.dev")

BENCHMARKS = ["ingest", "dashboards", "tenants", "routing", "jobs", "pooler_demo"]
RESULTS = Path(__file__).resolve().parent / "results.json"


class Report:
    """Collects figures; prints `name: value unit (baseline: value, ratio)` lines."""

    def __init__(self) -> None:
        self.results: dict[str, dict] = {}

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        baseline_name: str | None = None,
        target: str | None = None,
        ok: bool | None = None,
        **extra,
    ) -> None:
        entry = {"value": value, "unit": unit, **extra}
        line = f"  {name:<48} {value:>14,.2f} {unit}"
        if baseline is not None:
            ratio = value / baseline if baseline else float("inf")
            entry.update(baseline=baseline, baseline_name=baseline_name, ratio=ratio)
            line += f"   | baseline {baseline_name or ''}: {baseline:,.2f} {unit}  ratio {ratio:.2f}x"
        if target is not None:
            entry.update(target=target, ok=ok)
            line += f"   [target {target}: {'OK' if ok else 'MISSED'}]"
        self.results[name] = entry
        print(line, flush=True)


def main(argv: list[str]) -> int:
    import django

    django.setup()
    names = argv or BENCHMARKS
    report = Report()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").run(report)
        except Exception as exc:  # one broken benchmark must not hide the others
            failed.append(name)
            print(f"  FAILED: {type(exc).__name__}: {exc}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    previous.update(report.results)
    RESULTS.write_text(json.dumps(previous, indent=2, sort_keys=True))
    print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
