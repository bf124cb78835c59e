"""Check every pinned dependency against the package index's published advisories.

    .venv/bin/python .ci/audit.py .ci/constraints.txt          # exit 1 on a known vulnerability
    .venv/bin/python .ci/audit.py --expect-vulnerable FILE     # exit 1 unless one is found

Why not plain pip-audit: on these machines the index answers its per-project JSON document but
not the per-release one pip-audit asks for, so pip-audit skips nearly every package ("not found
on PyPI") and passes without having checked anything. The per-project document carries the
advisories of the project's latest release, so a pin equal to the latest release is audited
exactly; an older pin is listed as unaudited, with the reason, for a person to look at.
The canary run (`--expect-vulnerable` on a pin with known advisories) proves the feed still
answers: if it stops, CI fails instead of passing silently.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from pip._internal.models.index import PyPI  # the index pip itself uses; no host written here


@dataclass
class Verdict:
    name: str
    version: str
    advisories: list[str] = field(default_factory=list)
    unaudited: str | None = None


def read_pins(path: str) -> list[tuple[str, str]]:
    pins = []
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            name, _, version = line.partition("==")
            if not version:
                raise SystemExit(f"{path}: '{line}' is not pinned with ==")
            pins.append((name.strip(), version.strip()))
    return pins


def fetch(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            document: dict[str, Any] = json.load(response)
            return document
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def audit(name: str, version: str) -> Verdict:
    verdict = Verdict(name, version)
    document = fetch(f"{PyPI.pypi_url}/{name}/{version}/json")
    if document is None:
        project = fetch(f"{PyPI.pypi_url}/{name}/json")
        if project is None:
            verdict.unaudited = "not on the index"
            return verdict
        latest = project["info"]["version"]
        if latest != version:
            verdict.unaudited = f"latest is {latest}; advisories are published for it only"
            return verdict
        document = project
    for advisory in document.get("vulnerabilities") or []:
        if advisory.get("withdrawn"):
            continue
        fixed = ", ".join(advisory.get("fixed_in") or []) or "no fix"
        verdict.advisories.append(f"{advisory['id']} (fixed in: {fixed})")
    return verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("constraints")
    parser.add_argument("--expect-vulnerable", action="store_true")
    args = parser.parse_args()
    verdicts = [audit(name, version) for name, version in read_pins(args.constraints)]
    vulnerable = [v for v in verdicts if v.advisories]
    unaudited = [v for v in verdicts if v.unaudited]
    for verdict in vulnerable:
        print(f"VULNERABLE {verdict.name}=={verdict.version}: {'; '.join(verdict.advisories)}")
    for verdict in unaudited:
        print(f"unaudited  {verdict.name}=={verdict.version}: {verdict.unaudited}")
    audited = len(verdicts) - len(unaudited)
    print(f"{audited}/{len(verdicts)} pins audited, {len(vulnerable)} with known vulnerabilities")
    if args.expect_vulnerable:
        return 0 if vulnerable else 1
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
