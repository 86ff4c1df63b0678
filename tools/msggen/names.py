"""Names that cannot be used for types, fields or enumerators.

A name from the IDL becomes an identifier in C, C++, Rust and Python, so it
must be a valid, non-reserved identifier in all four.  Rust keywords are
written as raw identifiers (r#type), except the four Rust cannot escape.
"""

import keyword
import re

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

C_KEYWORDS = frozenset(
    """auto break case char const continue default do double else enum extern
    float for goto if inline int long register restrict return short signed
    sizeof static struct switch typedef union unsigned void volatile while
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn
    _Static_assert _Thread_local bool true false""".split()
)

CPP_KEYWORDS = frozenset(
    """alignas alignof and and_eq asm bitand bitor catch char8_t char16_t
    char32_t class compl concept consteval constexpr constinit const_cast
    co_await co_return co_yield decltype delete dynamic_cast explicit export
    friend mutable namespace new noexcept not not_eq nullptr operator or
    or_eq private protected public reinterpret_cast requires static_assert
    static_cast template this thread_local throw try typeid typename using
    virtual wchar_t xor xor_eq final override""".split()
)

RUST_KEYWORDS = frozenset(
    """as break const continue crate else enum extern false fn for if impl in
    let loop match mod move mut pub ref return self Self static struct super
    trait true type unsafe use where while async await dyn abstract become box
    do final macro override priv typeof unsized virtual yield try gen""".split()
)
# Rust keywords that cannot be written as raw identifiers.
RUST_UNESCAPABLE = frozenset(("crate", "self", "Self", "super", "_"))

PY_KEYWORDS = frozenset(keyword.kwlist)

# Member names the generated code defines itself.
RESERVED_MEMBERS = frozenset(("MESSAGE_ID", "MESSAGE_NAME", "SCHEMA_HASH", "ZERO"))
# Module-level names the generated code defines itself.
RESERVED_GLOBALS = frozenset(("MESSAGES", "FILE_SCHEMA_HASH", "MessageInfo", "layout_tests",
                              "axon", "std"))
# Modules the generated Python imports: a header of that name would shadow them.
PY_IMPORTS = frozenset(("ctypes", "enum", "sys"))
# ctypes gives these attribute names a meaning on Structure classes.
CTYPES_SPECIAL = frozenset(
    ("_fields_", "_pack_", "_anonymous_", "_align_", "_layout_", "_b_base_",
     "_b_needsfree_", "_objects", "_type_", "_length_")
)


def problem(name: str, what: str) -> str:
    """Why `name` cannot be used, or "" when it can.  `what` is one of
    "type", "field", "enumerator", "constant"."""
    if not IDENT.match(name):
        return f"'{name}' is not a valid identifier"
    if name in C_KEYWORDS:
        return f"'{name}' is a C keyword"
    if name in CPP_KEYWORDS:
        return f"'{name}' is a C++ keyword, so the generated C++ would not compile"
    if name in PY_KEYWORDS:
        return f"'{name}' is a Python keyword, so the generated Python could not use it"
    if name in RUST_UNESCAPABLE:
        return f"'{name}' is a Rust keyword that cannot be escaped"
    if name.startswith("__") or (name.startswith("_") and name[1:2].isupper()):
        return f"'{name}' is reserved for the C implementation"
    if what != "field" and name.startswith("_"):
        return f"'{name}' starts with '_', which the generated Python reserves"
    if name.lower().startswith("ax_"):
        return f"'{name}' starts with ax_/AX_, which is reserved for axon"
    if what == "field" and name in RESERVED_MEMBERS:
        return f"'{name}' is a member the generated code defines"
    if what == "field" and name in CTYPES_SPECIAL:
        return f"'{name}' has a special meaning for ctypes.Structure"
    if what != "field" and name in RESERVED_GLOBALS:
        return f"'{name}' is a name the generated modules define"
    return ""


def rust_ident(name: str) -> str:
    """The Rust spelling of an IDL name (raw identifier for keywords)."""
    return "r#" + name if name in RUST_KEYWORDS else name


def upper_snake(name: str) -> str:
    """RiskCheck -> RISK_CHECK, OrdType -> ORD_TYPE, HTTPCode -> HTTP_CODE."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.upper()
