"""Print the closing line CI reads (``tests: N passed, N failed, N skipped``) and every skip with its reason.
Usage: junit_summary.py JUNIT.xml... [--no-skips]: the counts of all the files together; exits 1 on a
failure, a missing file, nothing run, and with --no-skips on any skip (the test VM provides everything
its suite needs)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(paths: list[str], *, no_skips: bool = False) -> int:
    passed = failed = skipped = 0
    skips: list[str] = []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as err:
            print(f"{path}: no results ({err})")
            failed += 1
            continue
        for case in root.iter("testcase"):
            outcome = {child.tag for child in case}
            if outcome & {"failure", "error"}:
                failed += 1
            elif "skipped" in outcome:
                skipped += 1
                reason = next(c for c in case if c.tag == "skipped").get("message", "")
                skips.append(f"  {case.get('classname')}.{case.get('name')}: {reason}")
            else:
                passed += 1
    if skips:
        print("skipped tests:")
        print("\n".join(skips))
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 or (no_skips and skipped) else 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(main([a for a in arguments if a != "--no-skips"], no_skips="--no-skips" in arguments))
