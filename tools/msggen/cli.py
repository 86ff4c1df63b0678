"""Command line: axon-msggen --lang c,cpp,rust,python --out DIR HEADER...

Exit status: 0 on success, 1 when a header is rejected (the reason is
printed as `file:line: error: ...` on stderr), 2 for a bad command line.
"""

import argparse
import os
import sys
import tempfile
from typing import Dict, List

from . import emit_c, emit_cpp, emit_python, emit_rust, schema
from .model import Header, MsgGenError
from .parser import parse_file

VERSION = "1.0"

LANGS = {"c": "c", "cpp": "cpp", "c++": "cpp", "cxx": "cpp", "rust": "rust", "rs": "rust",
         "python": "python", "py": "python"}
ALL_LANGS = ("c", "cpp", "rust", "python")


def parse_langs(text: str) -> List[str]:
    out = []
    for word in text.replace(";", ",").split(","):
        word = word.strip().lower()
        if not word:
            continue
        if word not in LANGS:
            raise argparse.ArgumentTypeError(
                f"unknown language '{word}' (choose from c, cpp, rust, python)")
        if LANGS[word] not in out:
            out.append(LANGS[word])
    if not out:
        raise argparse.ArgumentTypeError("no language given")
    return out


def check_across(headers: List[Header]) -> None:
    """Names and ids must be unique across all headers of one run: they end
    up in one C program and one registry."""
    names: Dict[str, object] = {}
    ids: Dict[int, object] = {}
    for h in headers:
        for item in h.items:
            where = names.get(item.name)
            if where is not None and where.loc.file != item.loc.file:
                raise MsgGenError(item.loc, f"'{item.name}' is already declared at {where.loc}; "
                                  "names must be unique across all headers")
            names[item.name] = item
        for m in h.messages:
            prev = ids.get(m.id)
            if prev is not None:
                raise MsgGenError(m.loc, f"message id {m.id} of '{m.name}' is already used by "
                                  f"'{prev.name}' ({prev.loc}); give each message its own id")
            ids[m.id] = m


def generate(h: Header, langs: List[str], include_prefix: str) -> Dict[str, str]:
    files: Dict[str, str] = {}
    if "c" in langs:
        files.update(emit_c.emit(h, include_prefix))
    if "cpp" in langs:
        files.update(emit_cpp.emit(h))
    if "rust" in langs:
        files.update(emit_rust.emit(h))
    if "python" in langs:
        files.update(emit_python.emit(h))
    return files


def write_file(path: str, text: str) -> None:
    """Write atomically, so a build never sees half a file."""
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".msggen-", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def print_schema(headers: List[Header]) -> None:
    for h in headers:
        for item in h.items:
            if getattr(item, "canonical", ""):
                print(f"# {item.name}: 0x{schema.hex16(item.hash)}")
                sys.stdout.write(item.canonical)
                print()
        print(f"# {h.basename}: 0x{schema.hex16(h.hash)}")
        sys.stdout.write(h.canonical)
        print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="axon-msggen",
        description="Generate C, C++, Rust and Python code for the axon messages "
                    "declared in IDL headers (see docs/msggen.md).")
    ap.add_argument("headers", nargs="+", metavar="HEADER", help="IDL header(s), NAME.h")
    ap.add_argument("--lang", type=parse_langs, default=list(ALL_LANGS),
                    help="comma-separated: c, cpp, rust, python (default: all)")
    ap.add_argument("--out", metavar="DIR", help="output directory (created if missing)")
    ap.add_argument("--include-prefix", default="", metavar="PREFIX",
                    help='how the generated C includes the header: #include "PREFIXNAME.h"')
    ap.add_argument("--check", action="store_true", help="only check the headers")
    ap.add_argument("--print-schema", action="store_true",
                    help="print each type's canonical schema text and hash")
    ap.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    args = ap.parse_args(argv)
    if not args.out and not (args.check or args.print_schema):
        ap.error("--out DIR is required (or use --check / --print-schema)")

    headers = []
    try:
        for path in args.headers:
            headers.append(parse_file(path))
        check_across(headers)
    except MsgGenError as e:
        print(e, file=sys.stderr)
        return 1
    stems = [h.stem for h in headers]
    for h in headers:
        if stems.count(h.stem) > 1:
            print(f"{h.path}:1: error: two headers named {h.basename}: their outputs would "
                  "overwrite each other; rename one", file=sys.stderr)
            return 1
        schema.compute(h)
    if args.print_schema:
        print_schema(headers)
    if args.check or not args.out:
        return 0
    try:
        os.makedirs(args.out, exist_ok=True)
        for h in headers:
            for name, text in generate(h, args.lang, args.include_prefix).items():
                write_file(os.path.join(args.out, name), text)
    except OSError as e:
        print(f"axon-msggen: error: cannot write to {args.out}: {e}", file=sys.stderr)
        return 1
    return 0
