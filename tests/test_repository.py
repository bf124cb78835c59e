"""The repository stands alone: nothing in the package or the tests points outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A parent folder's shared data, or a specification kept elsewhere.
OUTSIDE = re.compile(
    r"\.\./shared|shared/data|SHARED_DATA|SPEC\s*§|SPEC\.md|\.parents\[\d\]\.parent\b"
)
SELF = Path(__file__).resolve()


def _sources() -> list[Path]:
    roots = [ROOT / "linktracker", ROOT / "tests", ROOT / "migrations", ROOT / "bench"]
    suffixes = {".py", ".html", ".js", ".css", ".ini", ".mako", ".cfg", ".toml", ".txt"}
    return [
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and path.suffix in suffixes and path.resolve() != SELF
    ]


def test_no_source_file_names_a_path_outside_the_repository() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, "files point outside the repository:\n" + "\n".join(hits)


def test_the_check_sees_a_file_that_points_outside() -> None:
    # The pattern itself, so that the test above cannot pass by matching nothing.
    samples = [
        'Path("../shared/data/crm")',
        "see SPEC §3.5",
        "Path(__file__).parents[1].parent / 'x'",
    ]
    assert all(OUTSIDE.search(sample) for sample in samples)
    assert not OUTSIDE.search('Path(__file__).resolve().parent / "data"')


def test_the_test_data_is_in_the_repository() -> None:
    data = ROOT / "tests" / "data"
    for name in ("crawler-user-agents.json", "uap_test_ua.yaml", "uap_test_device.yaml"):
        assert (data / "user_agents" / name).is_file()
    assert (data / "user_agents" / "LICENSE.uap-core").is_file()
    assert (data / "user_agents" / "LICENSE.crawler-user-agents").is_file()
    assert (data / "crm" / "hubspot_deals_export.csv").is_file()
