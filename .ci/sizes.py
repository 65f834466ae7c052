#!/usr/bin/env python3
"""Size check for the product projects (issue 13): no method over 80 lines, no .cs file over 450 lines.

A method's size is counted from the first line of its signature (attributes left out) through its closing
brace, or through the ';' of an expression-bodied member. Local functions and lambdas count toward the member
that holds them. Any member of a type with a body is measured: methods, constructors, operators, properties,
indexers and events.

Usage: .ci/sizes.py [--all] [--top N] [--max-method N] [--max-file N]
Prints the offenders and exits 1 if there are any; --top N also lists the N largest methods and files.
Not wired into .ci/run: it is a yardstick to rerun by hand.
"""
import argparse
import os
import re
import sys

PROJECTS = ["Synapse.Silo", "Synapse.Grains", "Synapse.Grains.Interfaces", "Synapse.Protocol", "Synapse.Client"]
TYPE_WORDS = re.compile(r"\b(class|struct|interface|record|enum|namespace)\b")


def blank(text, start, end, out):
    """Replaces text[start:end] with spaces in out, keeping newlines so line numbers hold."""
    for k in range(start, end):
        if text[k] != "\n":
            out[k] = " "


def skip_string(text, i):
    """Given i at the start of a string or char literal (including its $ and @ prefixes), returns the index
    just past it. Interpolation holes are walked as code so braces and strings inside them do not end it early."""
    n = len(text)
    j = i
    dollars = 0
    verbatim = False
    while j < n and text[j] in "$@":
        if text[j] == "$":
            dollars += 1
        else:
            verbatim = True
        j += 1
    if text[j] == "'":
        j += 1
        while j < n and text[j] != "'":
            j += 2 if text[j] == "\\" else 1
        return j + 1
    # raw string literal: three or more quotes
    q = 0
    while j + q < n and text[j + q] == '"':
        q += 1
    if q >= 3:
        j += q
        close = '"' * q
        while j < n:
            if text.startswith(close, j):
                return j + q
            if dollars and text.startswith("{" * dollars, j):
                j = skip_hole(text, j + dollars)
                continue
            j += 1
        return n
    j += 1  # opening quote
    while j < n:
        c = text[j]
        if verbatim:
            if c == '"':
                if j + 1 < n and text[j + 1] == '"':
                    j += 2
                    continue
                return j + 1
        else:
            if c == "\\":
                j += 2
                continue
            if c == '"':
                return j + 1
        if dollars and c == "{":
            if j + 1 < n and text[j + 1] == "{":
                j += 2
                continue
            j = skip_hole(text, j + 1)
            continue
        j += 1
    return n


def skip_hole(text, j):
    """Walks an interpolation hole from just inside its '{' to just past its matching '}'."""
    n = len(text)
    depth = 1
    while j < n:
        c = text[j]
        if c in "\"'" or (c in "$@" and j + 1 < n and text[j + 1] in "\"$@"):
            j = skip_string(text, j)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return n


def strip(text):
    """Blanks comments, strings and char literals, leaving braces, parentheses and semicolons of code."""
    out = list(text)
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            e = text.find("\n", i)
            e = n if e < 0 else e
            blank(text, i, e, out)
            i = e
        elif text.startswith("/*", i):
            e = text.find("*/", i + 2)
            e = n if e < 0 else e + 2
            blank(text, i, e, out)
            i = e
        elif c in "\"'" or (c in "$@" and i + 1 < n and text[i + 1] in "\"$@"):
            e = skip_string(text, i)
            blank(text, i, e, out)
            i = e
        else:
            i += 1
    return "".join(out)


def header_start(code, start, end):
    """The first character of a member's signature in code[start:end], past whitespace and attributes."""
    i = start
    while i < end:
        if code[i].isspace():
            i += 1
        elif code[i] == "[":
            depth = 0
            while i < end:
                if code[i] == "[":
                    depth += 1
                elif code[i] == "]":
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                i += 1
        else:
            return i
    return end


def members(path):
    """Yields (name, first line, last line) for each member with a body in the file."""
    with open(path, encoding="utf-8-sig") as f:
        code = strip(f.read())
    line_of = [0] * (len(code) + 1)
    line = 1
    for k, ch in enumerate(code):
        line_of[k] = line
        if ch == "\n":
            line += 1
    line_of[len(code)] = line

    # stack of (kind, open index); kind is "type" for namespaces and types, else "member" or "inner"
    stack = []
    seg = 0  # where the current statement or declaration began
    paren = 0
    pending_arrow = None  # (header start, name) of an expression-bodied member at type level
    last_name = "?"
    for i, ch in enumerate(code):
        if ch in "([":
            paren += 1
        elif ch in ")]":
            paren -= 1
        elif ch == "{":
            in_type = not stack or stack[-1][0] == "type"
            if in_type and pending_arrow is None:
                s = header_start(code, seg, i)
                # a type names itself before any parenthesis; "where T : class" on a method comes after its parameters
                before = code[s:i].split("(")[0]
                if TYPE_WORDS.search(before) and "=" not in before:
                    stack.append(("type", i))
                else:
                    # "= x switch { ... };" after "{ get; }" initializes the property just read
                    name = last_name + " (initializer)" if code[s] == "=" else name_of(code[s:i])
                    stack.append(("member", i, s, name))
            else:
                stack.append(("inner", i))
            seg = i + 1
        elif ch == "}":
            if stack:
                top = stack.pop()
                if top[0] == "member":
                    last_name = top[3]
                    yield top[3], line_of[top[2]], line_of[i]
            seg = i + 1
        elif ch == ";" and paren == 0:
            if pending_arrow is not None and (not stack or stack[-1][0] == "type"):
                yield pending_arrow[1], line_of[pending_arrow[0]], line_of[i]
                pending_arrow = None
            seg = i + 1
        elif ch == "=" and code.startswith("=>", i) and paren == 0:
            if (not stack or stack[-1][0] == "type") and pending_arrow is None:
                s = header_start(code, seg, i)
                pending_arrow = (s, name_of(code[s:i]))


def name_of(head):
    """The member's name: a field's before its '=', else the identifier before its parameter list (the last
    top-level parenthesis, so a tuple return type is passed over), else the last identifier."""
    field = re.match(r"([^(=]*?)([A-Za-z_][A-Za-z0-9_]*)\s*=(?!>)", head)
    if field:
        return field.group(2)
    head = re.split(r"\bwhere\b|:\s*(?:base|this)\s*\(", head)[0]
    depth = 0
    name = None
    for k, ch in enumerate(head):
        if ch == "(":
            if depth == 0:
                m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*(<[^()]*>)?\s*$", head[:k])
                if m and m.group(1) not in ("public", "private", "protected", "internal", "static", "async"):
                    name = m.group(1)
            depth += 1
        elif ch == ")":
            depth -= 1
    if name:
        return name
    ids = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", head)
    return ids[-1] if ids else "?"


def files(root):
    for project in PROJECTS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, project)):
            dirnames[:] = sorted(d for d in dirnames if d not in ("bin", "obj"))
            for name in sorted(filenames):
                if name.endswith(".cs"):
                    yield os.path.join(dirpath, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-method", type=int, default=80)
    ap.add_argument("--max-file", type=int, default=450)
    ap.add_argument("--top", type=int, default=0, help="also list the N largest methods and files")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    sized_files = []
    sized_methods = []
    for path in files(root):
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8-sig") as f:
            sized_files.append((sum(1 for _ in f), rel))
        for name, first, last in members(path):
            sized_methods.append((last - first + 1, f"{rel}:{first} {name}"))
    sized_files.sort(reverse=True)
    sized_methods.sort(reverse=True)

    bad_files = [x for x in sized_files if x[0] > args.max_file]
    bad_methods = [x for x in sized_methods if x[0] > args.max_method]
    if args.top:
        print(f"largest methods (of {len(sized_methods)}):")
        for size, where in sized_methods[: args.top]:
            print(f"  {size:5}  {where}")
        print(f"largest files (of {len(sized_files)}):")
        for size, where in sized_files[: args.top]:
            print(f"  {size:5}  {where}")
    for size, where in bad_methods:
        print(f"method over {args.max_method} lines: {size:5}  {where}")
    for size, where in bad_files:
        print(f"file over {args.max_file} lines:   {size:5}  {where}")
    if bad_methods or bad_files:
        print(f"{len(bad_methods)} method(s) and {len(bad_files)} file(s) over the limits")
        return 1
    print(f"ok: {len(sized_methods)} methods <= {args.max_method} lines, {len(sized_files)} files <= {args.max_file} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
