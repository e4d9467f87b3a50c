"""What the kernel source generators share: where they write, and --check."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src/main/java/dev/soma/fallback/vector"


def emit(path, text, generator):
    """Writes a generated file, or with --check only compares it (exit 1 and say so when it differs)."""
    if "--check" in sys.argv:
        if not path.exists() or path.read_text() != text:
            raise SystemExit(f"{path.name} differs from what {generator} generates: rerun it")
        return
    path.write_text(text)
    print("wrote", path)
