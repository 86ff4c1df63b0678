"""axon-msggen: messages declared once in a C header, generated for C, C++,
Rust and Python.  Python 3 standard library only.  See docs/msggen.md.

Modules: lexer and parser (IDL -> model), layout (C ABI layout), schema
(canonical text and FNV-1a hashes), one emit_* module per language, cli.
"""
