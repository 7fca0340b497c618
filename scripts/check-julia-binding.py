#!/usr/bin/env python3
"""Static checker of the Julia binding against the C header (Julia cannot run on these machines).

    check-julia-binding.py [--header include/scones.h] [--package bindings/julia/Scones]
                           [--extra examples/julia] [--suggest]

It parses include/scones.h (prototypes, typedefs, structs, #defines) and every Julia file of the
package with tree-sitter-julia, and fails on:
  - a Julia file that does not parse (syntax error), or a `@ccall` (the checker reads `ccall`);
  - a ccall of a function the header does not declare, or whose library is not `libscones`;
  - a ccall whose return type, argument count or argument types do not match the prototype
    (`ccall((:f, libscones), R, (T1, T2), a1, a2)`: the type tuple against the prototype, and the
    number of values passed against the tuple);
  - a Julia mirror of a C struct (same name) whose fields differ in name, order or type, and an
    opaque C type used in a ccall but not declared in Julia;
  - a `const SCONES_*` whose value differs from the header's #define, or a header #define the
    package does not mirror;
  - an exported C function that no ccall in the package wraps.

Type correspondence (after resolving C typedefs and Julia `const X = T` aliases):
  int32_t: Int32/Cint; uint32_t: UInt32/Cuint; int64_t: Int64; uint64_t: UInt64;
  size_t: Csize_t; ptrdiff_t: Cptrdiff_t; double: Float64/Cdouble; float: Float32/Cfloat;
  void: Cvoid/Nothing; T*: Ptr{T} or Ref{T}; char*: Cstring or Ptr{Cchar}/Ptr{UInt8};
  a function pointer typedef: Ptr{Cvoid}; struct S*: Ptr{S}/Ref{S} with a Julia type named S.
--suggest prints, for every unwrapped function, the one-line ccall wrapper to add to capi.jl.
--selftest runs the checker's own unit tests on small inline examples.
"""
import argparse
import os
import re
import sys

# ------------------------------------------------------------------------------------- C side

C_SCALARS = {"int32_t", "uint32_t", "int64_t", "uint64_t", "size_t", "ptrdiff_t", "double", "float",
             "void", "char", "uint8_t", "int8_t", "int", "unsigned"}


def strip_c_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def parse_c_decl(decl, named=True):
    """'const struct scones_matrix *points' -> ('scones_matrix', 1, 'points', True): base type,
    pointer depth, parameter name, and whether the pointee is const (an input array or struct)."""
    decl = decl.replace("*", " * ").strip()
    raw = decl.split()
    pointee_const = "const" in raw[: raw.index("*")] if "*" in raw else False
    toks = [t for t in raw if t not in ("const", "struct", "enum", "volatile", "restrict")]
    depth = toks.count("*")
    words = [t for t in toks if t != "*"]
    name = None
    if named and len(words) >= 2:
        name = words[-1]
        words = words[:-1]
    if not words:
        raise ValueError(f"cannot parse C declaration '{decl}'")
    return (" ".join(words), depth, name, pointee_const)


class Header:
    def __init__(self, text):
        self.defines = {}     # name -> value (int or str)
        self.aliases = {}     # typedef name -> base C type
        self.fnptrs = set()   # function pointer typedefs
        self.structs = {}     # name -> [(field, (base, depth))]
        self.opaque = set()
        self.functions = {}   # name -> (ret, [(base, depth, pname)])
        for m in re.finditer(r"^\s*#define\s+(SCONES_\w+)\s+(.+?)\s*$", text, flags=re.M):
            v = m.group(2).strip()
            if re.fullmatch(r"-?\d+", v):
                self.defines[m.group(1)] = int(v)
            elif re.fullmatch(r'"[^"]*"', v):
                self.defines[m.group(1)] = v[1:-1]
        s = strip_c_comments(text)
        s = re.sub(r"^\s*#.*$", " ", s, flags=re.M)
        s = s.replace('extern "C" {', " ")
        # static inline helpers are header-only: not exported, not wrapped.
        s = re.sub(r"static\s+inline\s+[^{;]*\{.*?\n\}", " ", s, flags=re.S)
        for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", s, flags=re.S):
            fields = []
            for f in m.group(2).split(";"):
                if f.strip():
                    b, d, n, _ = parse_c_decl(f)
                    fields.append((n, (b, d)))
            self.structs[m.group(3)] = fields
        s = re.sub(r"typedef\s+struct\s+(\w+)\s*\{.*?\}\s*\w+\s*;", " ", s, flags=re.S)
        for m in re.finditer(r"typedef\s+struct\s+(\w+)\s+(\w+)\s*;", s):
            self.opaque.add(m.group(2))
        s = re.sub(r"typedef\s+struct\s+\w+\s+\w+\s*;", " ", s)
        for m in re.finditer(r"typedef\s+[^;]*?\(\s*\*\s*(\w+)\s*\)\s*\([^;]*?\)\s*;", s, flags=re.S):
            self.fnptrs.add(m.group(1))
        s = re.sub(r"typedef\s+[^;]*?\(\s*\*\s*\w+\s*\)\s*\([^;]*?\)\s*;", " ", s, flags=re.S)
        for m in re.finditer(r"typedef\s+([\w\s]+?)\s+(\w+)\s*;", s):
            self.aliases[m.group(2)] = m.group(1).strip()
        s = re.sub(r"typedef\s+[\w\s]+?\s+\w+\s*;", " ", s)
        for m in re.finditer(r"([\w\s\*]+?)\b(scones_\w+)\s*\(([^()]*)\)\s*;", s, flags=re.S):
            ret = parse_c_decl(m.group(1), named=False)[:2]
            params = []
            p = m.group(3).strip()
            if p and p != "void":
                params = [parse_c_decl(x) for x in p.split(",")]
            self.functions[m.group(2)] = (ret, params)

    def canon(self, base, depth):
        """Resolves typedef aliases: ('scones_status', 0) -> ('int32_t', 0)."""
        seen = 0
        while base in self.aliases and seen < 10:
            base = self.aliases[base]
            seen += 1
        if base in self.fnptrs:
            return ("void", depth + 1)  # a function pointer crosses as Ptr{Cvoid}
        return (base, depth)


# ---------------------------------------------------------------------------------- Julia side

JULIA_SCALARS = {
    "Int32": "int32_t", "Cint": "int32_t", "UInt32": "uint32_t", "Cuint": "uint32_t",
    "Int64": "int64_t", "Clonglong": "int64_t", "UInt64": "uint64_t", "Culonglong": "uint64_t",
    "Csize_t": "size_t", "Cptrdiff_t": "ptrdiff_t", "Float64": "double", "Cdouble": "double",
    "Float32": "float", "Cfloat": "float", "Cvoid": "void", "Nothing": "void",
    "Cchar": "char", "UInt8": "char", "Int8": "char", "Cuchar": "char",
}
C_TO_JULIA = {"int32_t": "Int32", "uint32_t": "UInt32", "int64_t": "Int64", "uint64_t": "UInt64",
              "size_t": "Csize_t", "ptrdiff_t": "Cptrdiff_t", "double": "Cdouble", "float": "Cfloat",
              "void": "Cvoid", "char": "Cchar"}


def split_top(s, sep=","):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out]


class JuliaTypes:
    def __init__(self, aliases, structs):
        self.aliases = aliases  # const X = T
        self.structs = structs  # name -> [(field, type text)]

    def canon(self, t):
        """'Ref{Ptr{scones_dual}}' -> ('scones_dual', 2); None when unknown."""
        t = re.sub(r"\s+", "", t)
        m = re.fullmatch(r"(Ptr|Ref)\{(.+)\}", t)
        if m:
            inner = self.canon(m.group(2))
            return None if inner is None else (inner[0], inner[1] + 1)
        if t == "Cstring":
            return ("char", 1)
        seen = 0
        while t in self.aliases and seen < 10:
            t = re.sub(r"\s+", "", self.aliases[t])
            seen += 1
            m = re.fullmatch(r"(Ptr|Ref)\{(.+)\}", t)
            if m or t == "Cstring":
                return self.canon(t)
        if t in JULIA_SCALARS:
            return (JULIA_SCALARS[t], 0)
        if t in self.structs:
            return (t, 0)
        return None


def julia_type_for(h, base, depth, const=False, arg=True):
    """The Julia type text suggested for a C type (used by --suggest): typedef names are kept
    (the package mirrors them as `const scones_status = Int32`), handles are Ptr{T}, outputs
    and struct arguments Ref{T} (a struct value can then be passed directly), const arrays Ptr{T}."""
    if base in h.fnptrs:
        return "Ptr{Cvoid}"
    b, d = h.canon(base, depth)
    if b == "char" and d == 1:
        return "Cstring"
    if b == "char" and d == 2:
        return "Ptr{Cstring}"
    t = base if base in h.aliases else C_TO_JULIA.get(b, b)
    if d == 0:
        return t
    if b == "void":
        return "Ptr{Cvoid}" if d == 1 else "Ref{Ptr{Cvoid}}"
    if b in h.opaque:
        return f"Ptr{{{t}}}" if d == 1 else f"Ref{{Ptr{{{t}}}}}"
    if d == 1 and arg:
        return f"Ptr{{{t}}}" if (const and b not in h.structs) else f"Ref{{{t}}}"
    inner = t
    for _ in range(d):
        inner = f"Ptr{{{inner}}}"
    return inner


def suggest(h, name):
    ret, params = h.functions[name]
    rt = julia_type_for(h, ret[0], ret[1], arg=False)
    names = [p[2] or f"a{i}" for i, p in enumerate(params)]
    names = [n + "_" if n in ("function", "end", "type", "global", "local") else n for n in names]
    types = [julia_type_for(h, p[0], p[1], p[3]) for p in params]
    tup = "(" + ", ".join(types) + ("," if len(types) == 1 else "") + ")"
    return f"{name}({', '.join(names)}) = ccall((:{name}, libscones), {rt}, {tup}{''.join(', ' + n for n in names)})"


def load_parser():
    try:
        from tree_sitter import Language, Parser
        import tree_sitter_julia
    except ImportError:
        sys.exit("check-julia-binding: needs the tree-sitter and tree-sitter-julia Python packages "
                 "(scripts/setup-tools.sh julia-check installs them)")
    lang = Language(tree_sitter_julia.language())
    try:
        return Parser(lang)
    except TypeError:  # older py-tree-sitter
        p = Parser()
        p.set_language(lang)
        return p


def named(node):
    return [c for c in node.children if c.is_named and c.type not in ("comment", "line_comment", "block_comment")]


def walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def text(node):
    return node.text.decode()


class JuliaFile:
    def __init__(self, parser, path):
        self.path = path
        src = open(path, "rb").read()
        self.tree = parser.parse(src)
        self.errors = []
        for n in walk(self.tree.root_node):
            if n.type == "ERROR" or n.is_missing:
                self.errors.append(f"{path}:{n.start_point[0] + 1}:{n.start_point[1] + 1}: syntax error near "
                                   f"'{text(n)[:40]}'")
        self.ccalls, self.macro_ccalls, self.consts, self.structs = [], [], {}, {}
        for n in walk(self.tree.root_node):
            if n.type == "call_expression":
                f = n.children[0]
                if f.type == "identifier" and text(f) == "ccall":
                    self.ccalls.append(n)
            elif n.type == "macrocall_expression" and "ccall" in text(n.children[0]):
                self.macro_ccalls.append(n)
            elif n.type == "const_statement":
                a = next((c for c in named(n) if c.type == "assignment"), None)
                if a is not None and named(a)[0].type == "identifier":
                    self.consts[text(named(a)[0])] = (named(a)[-1], n.start_point[0] + 1)
            elif n.type == "struct_definition":
                head = next((c for c in named(n) if c.type == "type_head"), None)
                if head is None:
                    continue
                nm = text(head).split("<:")[0].strip()
                fields = []
                for c in named(n):
                    if c.type == "typed_expression":
                        fn, ft = named(c)[0], named(c)[-1]
                        fields.append((text(fn), text(ft)))
                self.structs[nm] = (fields, n.start_point[0] + 1)


def const_value(node):
    """Integer or string value of `const X = 3`, `Int32(3)`, `"s"`; None otherwise."""
    t = text(node).strip()
    m = re.fullmatch(r"(?:(?:U?Int(?:8|16|32|64)|Cint|Cuint)\()?\s*(-?(?:0x[0-9a-fA-F]+|\d+))\s*\)?", t)
    if m:
        return int(m.group(1), 0)
    if node.type == "string_literal" and "$" not in t:
        return t[1:-1]
    return None


def check(header_path, package, extra, show_suggestions):
    errors = []
    h = Header(open(header_path).read())
    if not h.functions:
        return [f"{header_path}: no function prototypes found"], h, set()
    parser = load_parser()
    files = []
    for root in [package] + extra:
        for dirpath, _, names in os.walk(root):
            for nm in sorted(names):
                if nm.endswith(".jl"):
                    files.append(JuliaFile(parser, os.path.join(dirpath, nm)))
    if not files:
        return [f"{package}: no Julia files"], h, set()
    for f in files:
        errors += f.errors
    pkg_files = [f for f in files if f.path.startswith(package)]
    aliases, structs, consts = {}, {}, {}
    for f in pkg_files:
        for name, (node, line) in f.consts.items():
            consts[name] = (node, f"{f.path}:{line}")
            if node.type in ("identifier", "parametrized_type_expression"):
                aliases[name] = text(node)
        for name, (fields, line) in f.structs.items():
            structs[name] = (fields, f"{f.path}:{line}")
    jt = JuliaTypes(aliases, {k: v[0] for k, v in structs.items()})

    # Structs mirrored from C: same fields, in order, of matching types.
    for name, cfields in h.structs.items():
        if name not in structs:
            errors.append(f"C struct {name} has no Julia mirror `struct {name}` in the package")
            continue
        jfields, where = structs[name]
        if [f for f, _ in jfields] != [f for f, _ in cfields]:
            errors.append(f"{where}: struct {name} fields {[f for f, _ in jfields]} != C {[f for f, _ in cfields]}")
            continue
        for (fname, jtype), (_, (cb, cd)) in zip(jfields, cfields):
            if jt.canon(jtype) != h.canon(cb, cd):
                errors.append(f"{where}: {name}.{fname}::{jtype} does not match C {cb}{'*' * cd}")
    for name in h.opaque:
        if name not in structs:
            errors.append(f"opaque C type {name} has no Julia declaration `mutable struct {name} end`")

    # Constants.
    for name, value in h.defines.items():
        if name not in consts:
            errors.append(f"#define {name} {value!r} is not mirrored by `const {name} = ...` in the package")
            continue
        node, where = consts[name]
        jv = const_value(node)
        if jv != value:
            errors.append(f"{where}: const {name} = {text(node)} but the header defines {value!r}")

    # ccalls.
    wrapped = set()
    for f in files:
        for n in f.macro_ccalls:
            errors.append(f"{f.path}:{n.start_point[0] + 1}: use ccall((:name, libscones), ...), which this "
                          "checker verifies, not @ccall")
        for n in f.ccalls:
            where = f"{f.path}:{n.start_point[0] + 1}"
            args_node = next((c for c in n.children if c.type == "argument_list"), None)
            args = named(args_node) if args_node is not None else []
            if len(args) < 3:
                errors.append(f"{where}: ccall needs (name, library), return type and argument types")
                continue
            target, rtype, atypes, values = args[0], args[1], args[2], args[3:]
            parts = named(target) if target.type == "tuple_expression" else []
            if len(parts) != 2 or parts[0].type != "quote_expression":
                errors.append(f"{where}: ccall target must be (:scones_name, libscones), got {text(target)}")
                continue
            fname = text(parts[0]).lstrip(":")
            if text(parts[1]) != "libscones":
                errors.append(f"{where}: ccall of {fname} through '{text(parts[1])}' instead of libscones")
            if fname not in h.functions:
                errors.append(f"{where}: ccall of {fname}, which include/scones.h does not declare")
                continue
            wrapped.add(fname)
            (cret, cparams) = h.functions[fname]
            if atypes.type != "tuple_expression":
                errors.append(f"{where}: {fname}: argument types must be a tuple, got {text(atypes)} "
                              "(a single type needs a trailing comma)")
                continue
            jtypes = [text(c) for c in named(atypes)]
            if jt.canon(text(rtype)) != h.canon(*cret):
                errors.append(f"{where}: {fname} returns {cret[0]}{'*' * cret[1]} in C, ccall says {text(rtype)}")
            if len(jtypes) != len(cparams):
                errors.append(f"{where}: {fname} takes {len(cparams)} arguments in C, the ccall declares "
                              f"{len(jtypes)}")
            else:
                for i, (jtype, (cb, cd, pn, _)) in enumerate(zip(jtypes, cparams)):
                    jc = jt.canon(jtype)
                    if jc is None:
                        errors.append(f"{where}: {fname} argument {i + 1} ({pn}): unknown Julia type {jtype}")
                    elif jc != h.canon(cb, cd):
                        errors.append(f"{where}: {fname} argument {i + 1} ({pn}) is {cb}{'*' * cd} in C, "
                                      f"the ccall says {jtype}")
            if len(values) != len(jtypes):
                errors.append(f"{where}: {fname}: {len(jtypes)} argument types but {len(values)} values passed")
    missing = sorted(set(h.functions) - wrapped)
    for name in missing:
        errors.append(f"exported C function {name} is not wrapped by any ccall in {package}")
    if missing and show_suggestions:
        print("one-line wrappers for the missing functions (add them to src/capi.jl):")
        for name in missing:
            print("  " + suggest(h, name))
    return errors, h, wrapped


def selftest():
    hdr = """
    #define SCONES_A 3
    typedef int32_t scones_status;
    typedef struct scones_x scones_x;
    typedef struct scones_error scones_error;
    typedef struct scones_v { const void *data; size_t n; } scones_v;
    typedef int32_t (*scones_fn)(void *user, const struct scones_v *p);
    #ifdef __cplusplus
    extern "C" {
    #endif
    /** doc */
    scones_status scones_f(const struct scones_x *x, const struct scones_v *v, scones_fn cb, void *u,
                           const char *const *labels, struct scones_x **out, struct scones_error **err);
    const char *scones_name(scones_status s);
    void scones_free(struct scones_x *x);
    #ifdef __cplusplus
    }
    #endif
    static inline scones_v scones_v_make(const void *d) { scones_v m = {d, 1};
      return m;
    }
    """
    h = Header(hdr)
    assert set(h.functions) == {"scones_f", "scones_name", "scones_free"}, h.functions
    assert h.canon(*h.functions["scones_f"][0]) == ("int32_t", 0)
    assert [h.canon(b, d) for b, d, _, _ in h.functions["scones_f"][1]] == [
        ("scones_x", 1), ("scones_v", 1), ("void", 1), ("void", 1), ("char", 2), ("scones_x", 2),
        ("scones_error", 2)], h.functions["scones_f"]
    assert h.structs["scones_v"] == [("data", ("void", 1)), ("n", ("size_t", 0))]
    assert h.defines == {"SCONES_A": 3}
    jt = JuliaTypes({"scones_status": "Int32"}, {"scones_x": [], "scones_v": []})
    assert jt.canon("Ref{Ptr{scones_x}}") == ("scones_x", 2)
    assert jt.canon("Ptr{Cstring}") == ("char", 2)
    assert jt.canon("scones_status") == ("int32_t", 0)
    assert jt.canon("Csize_t") != jt.canon("UInt32")
    s = suggest(h, "scones_f")
    assert s.startswith("scones_f(x, v, cb, u, labels, out, err) = ccall((:scones_f, libscones), scones_status, "
                        "(Ptr{scones_x}, Ref{scones_v}, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cstring}, "
                        "Ref{Ptr{scones_x}}, Ref{Ptr{scones_error}})"), s
    print("check-julia-binding: self-test passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--header", default=os.path.join(root, "include/scones.h"))
    ap.add_argument("--package", default=os.path.join(root, "bindings/julia/Scones"))
    ap.add_argument("--extra", action="append", default=None,
                    help="more Julia files to syntax-check and whose ccalls to verify (default: examples/julia)")
    ap.add_argument("--suggest", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        selftest()
        return 0
    extra = a.extra if a.extra is not None else [os.path.join(root, "examples/julia")]
    extra = [e for e in extra if os.path.exists(e)]
    errors, h, wrapped = check(a.header, a.package, extra, a.suggest)
    for e in errors:
        print("FAIL " + e, file=sys.stderr)
    if errors:
        print(f"julia binding check: {len(errors)} problems ({len(wrapped)} of {len(h.functions)} C functions "
              "wrapped); --suggest prints the missing wrappers", file=sys.stderr)
        return 1
    print(f"julia binding check: all {len(h.functions)} C functions wrapped with matching signatures, "
          f"{len(h.structs)} structs and {len(h.defines)} constants mirrored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
