#!/usr/bin/env python3
"""Unit tests of tools/msggen: hashing, layout, parsing details, the command
line, and a no-crash check on mutated headers.  Standard library only:

    python3 tests/msggen/unit_test.py [-v]
"""

import ctypes
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TOOL = os.path.join(ROOT, "tools", "axon-msggen")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools"))

from msggen import emit_c, emit_cpp, emit_python, emit_rust, schema  # noqa: E402
from msggen.model import MsgGenError  # noqa: E402
from msggen.parser import parse_text  # noqa: E402

RISK_CHECK = """#include <axon/idl.h>
AX_MESSAGE(RiskCheck, 1020)
typedef struct {
    int64_t order_id;
    char    symbol[8];
    double  quantity;
    double  price;
    int32_t side;      /* 0 = buy, 1 = sell */
} RiskCheck;
"""

# The canonical form and hash documented in docs/msggen.md.  Changing either
# breaks every peer's handshake: bump the schema version instead.
RISK_CHECK_CANONICAL = """axon-schema 1
message RiskCheck id=1020 size=40 align=8
field order_id i64 offset=0 size=8
field symbol char[8] offset=8 size=8
field quantity f64 offset=16 size=8
field price f64 offset=24 size=8
field side i32 offset=32 size=4
"""
RISK_CHECK_HASH = 0xD3F6F61915EE56D9


def parse(text, name="t.h"):
    h = parse_text(name, text)
    schema.compute(h)
    return h


def tool(*args):
    return subprocess.run([sys.executable, TOOL] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


class HashTest(unittest.TestCase):
    def test_fnv1a64_vectors(self):
        # Reference values of FNV-1a 64 (Fowler, Noll, Vo).
        self.assertEqual(schema.fnv1a64(b""), 0xCBF29CE484222325)
        self.assertEqual(schema.fnv1a64(b"a"), 0xAF63DC4C8601EC8C)
        self.assertEqual(schema.fnv1a64(b"foobar"), 0x85944171F73967E8)

    def test_documented_example(self):
        m = parse(RISK_CHECK).messages[0]
        self.assertEqual(m.canonical, RISK_CHECK_CANONICAL)
        self.assertEqual(m.hash, RISK_CHECK_HASH)
        with open(os.path.join(ROOT, "docs", "msggen.md"), encoding="utf-8") as fh:
            doc = fh.read()
        self.assertIn(RISK_CHECK_CANONICAL, doc)
        self.assertIn(f"0x{RISK_CHECK_HASH:016x}", doc)

    def test_comments_and_spacing_do_not_matter(self):
        other = RISK_CHECK.replace("/* 0 = buy, 1 = sell */", "// side").replace("    ", "\t")
        self.assertEqual(parse(other).messages[0].hash, RISK_CHECK_HASH)

    def test_every_schema_change_changes_the_hash(self):
        changes = [("order_id", "order_no"), ("int32_t side", "uint32_t side"),
                   ("symbol[8]", "symbol[9]"), ("1020", "1021"), ("RiskCheck", "RiskChek"),
                   ("double  price;", "float price;")]
        for old, new in changes:
            with self.subTest(change=new):
                h = parse(RISK_CHECK.replace(old, new))
                self.assertNotEqual(h.messages[0].hash, RISK_CHECK_HASH)

    def test_nested_change_reaches_the_outer_type(self):
        text = ("#include <axon/idl.h>\nAX_STRUCT(In)\ntypedef struct { int32_t a; } In;\n"
                "AX_MESSAGE(Out, 5)\ntypedef struct { In inner[2]; } Out;\n")
        a = parse(text).messages[0].hash
        b = parse(text.replace("int32_t a;", "int32_t b;")).messages[0].hash
        self.assertNotEqual(a, b)

    def test_enum_values_are_in_the_hash(self):
        text = ("#include <axon/idl.h>\nAX_ENUM(E, int32_t) { E_A = 1 };\n"
                "AX_MESSAGE(M, 5)\ntypedef struct { E e; } M;\n")
        self.assertNotEqual(parse(text).messages[0].hash,
                            parse(text.replace("E_A = 1", "E_A = 2")).messages[0].hash)

    def test_file_hash_is_order_independent_by_id(self):
        a = "AX_MESSAGE(A, 1)\ntypedef struct { int8_t x; } A;\n"
        b = "AX_MESSAGE(B, 2)\ntypedef struct { int8_t y; } B;\n"
        self.assertEqual(parse(a + b).hash, parse(b + a).hash)


class LayoutTest(unittest.TestCase):
    def test_risk_check(self):
        m = parse(RISK_CHECK).messages[0]
        self.assertEqual([f.offset for f in m.fields], [0, 8, 16, 24, 32])
        self.assertEqual((m.size, m.align), (40, 8))
        self.assertEqual(m.padding(), [(36, 4, "side")])

    def test_against_ctypes(self):
        h = parse("AX_STRUCT(P)\ntypedef struct { int8_t a; double b; int16_t c; } P;\n"
                  "AX_MESSAGE(M, 9)\ntypedef struct { bool f; P p[3]; uint16_t g[2][3]; "
                  "char s[5]; } M;\n")

        class P(ctypes.Structure):
            _fields_ = [("a", ctypes.c_int8), ("b", ctypes.c_double), ("c", ctypes.c_int16)]

        class M(ctypes.Structure):
            _fields_ = [("f", ctypes.c_bool), ("p", P * 3), ("g", ctypes.c_uint16 * 3 * 2),
                        ("s", ctypes.c_char * 5)]

        for model, real in zip(h.structs, (P, M)):
            self.assertEqual((model.size, model.align), (ctypes.sizeof(real),
                                                         ctypes.alignment(real)))
            for f in model.fields:
                self.assertEqual(f.offset, getattr(real, f.name).offset, f.name)

    def test_empty_message(self):
        m = parse("AX_EMPTY_MESSAGE(Ping, 3)\n").messages[0]
        self.assertEqual((m.size, m.align, m.fields), (0, 1, []))


class ParseTest(unittest.TestCase):
    def test_docs_are_carried(self):
        h = parse(open(os.path.join(HERE, "golden", "sensors.h")).read(), "sensors.h")
        reading = h.messages[0]
        self.assertEqual(reading.doc, ["One reading of one sensor.",
                                       "Sent by every sensor once per period."])
        docs = {f.name: f.doc for f in reading.fields}
        self.assertEqual(docs["timestamp_ns"], ["when it was taken"])
        self.assertEqual(docs["unit"], ['Unit of value, NUL-padded: "degC", "Pa", ...'])
        self.assertEqual(docs["value"], [])
        health = h.enums[0]
        self.assertEqual([v.doc for v in health.values],
                         [["working"], ["readings may be noisy"], ["needs service"]])
        self.assertEqual([v.value for v in health.values], [0, 1, 9])

    def test_enumerator_prefix(self):
        h = parse("AX_ENUM(OrdType, int8_t) { ORD_TYPE_LIMIT, ORD_TYPE_MARKET };\n"
                  "AX_ENUM(Mixed, int8_t) { MIXED_A, OTHER_B };\n"
                  "AX_ENUM(Digit, int8_t) { DIGIT_1, DIGIT_2 };\n")
        self.assertEqual([[v.short for v in e.values] for e in h.enums],
                         [["LIMIT", "MARKET"], ["MIXED_A", "OTHER_B"], ["DIGIT_1", "DIGIT_2"]])

    def test_several_declarators_and_constants(self):
        h = parse("#define N 3\nAX_MESSAGE(M, N)\ntypedef struct { int32_t a, b[N]; } M;\n")
        m = h.messages[0]
        self.assertEqual(m.id, 3)
        self.assertEqual([(f.name, f.dims) for f in m.fields], [("a", ()), ("b", (3,))])

    def test_errors_name_the_line(self):
        with self.assertRaises(MsgGenError) as cm:
            parse("\n\nAX_MESSAGE(M, 1)\ntypedef struct {\n  int32_t *p;\n} M;\n")
        self.assertEqual(str(cm.exception).split(": error:")[0], "t.h:5")

    def test_mutated_headers_never_crash(self):
        """Random edits of valid headers are accepted or rejected with
        file:line, never a Python exception."""
        srcs = [open(os.path.join(HERE, p)).read() for p in
                ("golden/sensors.h", "crosslang/awkward.h")]
        toks = ["*", "[", "]", "{", "}", ";", ",", "(", ")", "int", "struct", "union", "0",
                "-1", ":", "#", "\n", "/*", "*/", "//", '"', "=", "char", "X", "0x", "1.5",
                "\\\n", "#define", "#endif", "AX_MESSAGE", "typedef", "099"]
        rng = random.Random(1234)
        for _ in range(1500):
            s = rng.choice(srcs)
            for _ in range(rng.randint(1, 3)):
                pos = rng.randint(0, len(s))
                op = rng.random()
                if op < 0.3:
                    s = s[:pos] + s[pos + rng.randint(1, 20):]
                elif op < 0.8:
                    s = s[:pos] + rng.choice(toks) + s[pos:]
                else:
                    s = s[:pos]
            try:
                h = parse(s, "f.h")
                for emitter in (emit_c, emit_cpp, emit_rust, emit_python):
                    emitter.emit(h)
            except MsgGenError as e:
                self.assertTrue(str(e).startswith("f.h:"), str(e))


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    def test_python_interface(self):
        """tools/axon-msggen --lang ... --out DIR foo.h writes DIR/foo.py with one
        ctypes.Structure subclass per message, named as the message, with MESSAGE_ID."""
        h = self.write("foo.h", RISK_CHECK + "AX_EMPTY_MESSAGE(Ping, 7)\n")
        out = os.path.join(self.dir, "out")
        p = tool("--lang", "c,cpp,rust,python", "--out", out, h)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(os.listdir(out)),
                         ["foo.axon.c", "foo.axon.h", "foo.hpp", "foo.py", "foo.rs"])
        spec = importlib.util.spec_from_file_location("foo", os.path.join(out, "foo.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        self.assertTrue(issubclass(mod.RiskCheck, ctypes.Structure))
        self.assertEqual(mod.RiskCheck.MESSAGE_ID, 1020)
        self.assertEqual(mod.Ping.MESSAGE_ID, 7)
        self.assertEqual(ctypes.sizeof(mod.RiskCheck), 40)
        self.assertEqual(mod.RiskCheck.SCHEMA_HASH, RISK_CHECK_HASH)

    def test_language_subset_and_aliases(self):
        h = self.write("bar.h", RISK_CHECK)
        out = os.path.join(self.dir, "o")
        self.assertEqual(tool("--lang", "C++,py", "--out", out, h).returncode, 0)
        self.assertEqual(sorted(os.listdir(out)), ["bar.hpp", "bar.py"])
        p = tool("--lang", "fortran", "--out", out, h)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown language 'fortran'", p.stderr)
        self.assertEqual(tool(h).returncode, 2)  # no --out

    def test_output_is_deterministic(self):
        h = self.write("det.h", RISK_CHECK)
        outs = []
        for name in ("a", "b"):
            out = os.path.join(self.dir, name)
            self.assertEqual(tool("--out", out, h).returncode, 0)
            outs.append({f: open(os.path.join(out, f)).read() for f in os.listdir(out)})
        self.assertEqual(outs[0], outs[1])

    def test_include_prefix(self):
        h = self.write("pre.h", RISK_CHECK)
        out = os.path.join(self.dir, "o")
        self.assertEqual(tool("--lang", "c", "--include-prefix", "msgs/", "--out", out,
                              h).returncode, 0)
        self.assertIn('#include "msgs/pre.h"', open(os.path.join(out, "pre.axon.h")).read())

    def test_names_unique_across_headers(self):
        a = self.write("a.h", RISK_CHECK)
        b = self.write("b.h", RISK_CHECK.replace("1020", "1021"))
        p = tool("--check", a, b)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"b\.h:2: error: 'RiskCheck' is already declared at "
                                   r".*a\.h:2")

    def test_same_stem_twice(self):
        a = self.write("same.h", RISK_CHECK)
        os.mkdir(os.path.join(self.dir, "sub"))
        b = self.write("sub/same.h", "AX_MESSAGE(Other, 5)\ntypedef struct { int8_t a; } Other;\n")
        p = tool("--out", os.path.join(self.dir, "o"), a, b)
        self.assertEqual(p.returncode, 1)
        self.assertIn("two headers named same.h", p.stderr)

    def test_print_schema(self):
        h = self.write("ps.h", RISK_CHECK)
        p = tool("--print-schema", h)
        self.assertEqual(p.returncode, 0)
        self.assertIn(RISK_CHECK_CANONICAL, p.stdout)
        self.assertIn(f"# RiskCheck: 0x{RISK_CHECK_HASH:016x}", p.stdout)


if __name__ == "__main__":
    unittest.main()
