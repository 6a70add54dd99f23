"""The doctor's report: aligned OK/WARN/FAIL lines and a verdict for a person at the machine, or JSON
for a script (a deployment tool, a monitoring job) that decides on its own.

Both say the same thing: the piece would not run as configured exactly when a check FAILs; WARNs
(no camera, a provider that falls back) are reported but leave it ready.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from engine.doctor.base import FAIL, WARN, Check


def failed(checks: list[Check]) -> bool:
    return any(c.level == FAIL for c in checks)


def report(checks: list[Check]) -> str:
    fails = sum(c.level == FAIL for c in checks)
    warns = sum(c.level == WARN for c in checks)
    lines = [f"{c.level:<5} {c.name:<10} {c.detail}" for c in checks]
    verdict = "the piece would not run as configured" if fails else "ready"
    lines.append(f"{fails} failure(s), {warns} warning(s): {verdict}")
    return "\n".join(lines)


def report_json(checks: list[Check]) -> str:
    return json.dumps({"ok": not failed(checks), "checks": [asdict(c) for c in checks]}, indent=1)
