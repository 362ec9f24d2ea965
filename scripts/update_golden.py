"""Write the golden outputs of tests/support/golden_dataset.py to tests/golden/.

Only for an intended behaviour change (see tests/golden/README.md). Run from
the repository root: ``.venv/bin/python scripts/update_golden.py``.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.golden_dataset import outputs  # noqa: E402

GOLDEN = ROOT / "tests" / "golden"
KEEP = {"README.md"}


def main() -> int:
    import monitoring_core

    print(f"code under test: {Path(monitoring_core.__file__).parent}")
    produced = outputs()
    for child in GOLDEN.iterdir() if GOLDEN.exists() else ():
        if child.name not in KEEP:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    for name, content in sorted(produced.items()):
        path = GOLDEN / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    print(f"{len(produced)} golden files written under {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
