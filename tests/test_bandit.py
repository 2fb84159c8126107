"""bandit finds nothing in the package, and every `# nosec` says why just above it."""
import json
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "workshop"


def test_bandit_finds_no_medium_or_high_issue():
    run = subprocess.run([sys.executable, "-m", "bandit", "-r", str(PACKAGE), "-f", "json", "-q",
                          "--severity-level", "medium"], capture_output=True, text=True, timeout=120)
    report = json.loads(run.stdout)
    found = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
             for r in report["results"]]
    assert found == [], "\n".join(found)
    assert not report["errors"], report["errors"]


def test_every_nosec_is_justified():
    """`# nosec Bxxx` names the test it silences, and the comment above says why (naming it too)."""
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().splitlines()
        for n, line in enumerate(lines):
            if "nosec" not in line:
                continue
            ids = re.findall(r"nosec\s+(B\d{3}(?:\s*,\s*B\d{3})*)", line)
            assert ids, f"{path}:{n + 1}: a bare nosec silences every test"
            above, k = [], n - 1
            while k >= 0 and lines[k].strip().startswith("#"):  # the comment block just above
                above.insert(0, lines[k].strip())
                k -= 1
            reason = " ".join(above)
            for test_id in re.findall(r"B\d{3}", ids[0]):
                assert test_id in reason and len(reason) > 40, \
                    f"{path}:{n + 1}: say why {test_id} does not apply, in a comment just above"
