"""Print the closing line CI reads (``tests: N passed, N failed, N skipped``) and every skip with its reason."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        print(f"tests: no results ({err})")
        return 1
    passed = failed = skipped = 0
    skips: list[str] = []
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
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
