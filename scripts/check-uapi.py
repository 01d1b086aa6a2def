#!/usr/bin/python3
"""Checks a UAPI header against its YNL-style netlink spec: every name the
spec implies exists in the header with the value the spec gives it, and the
header defines no attribute, command or enum entry the spec lacks.  It does
so by compiling static assertions against the header with the C compiler.

With a third argument, the kernel's netlink.c, it also checks that each
operation's permission flags in the spec (admin-perm, uns-admin-perm) are
the GENL_* flags of that command's entry in the kernel's ops table.

Usage: check-uapi.py SPEC.yaml HEADER.h [NETLINK.c]   (exit 0 when they agree)
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml


def c_name(*parts):
    return "_".join(p.upper().replace("-", "_") for p in parts if p)


def expected(spec):
    fam = spec["name"]
    names = {}
    strings = {c_name(fam, "family", "name"): fam}
    names[c_name(fam, "family", "version")] = spec.get("version", 1)
    for d in spec.get("definitions", []):
        if d["type"] not in ("enum", "flags"):
            continue
        start = d.get("value-start", 0)
        for i, e in enumerate(d["entries"]):
            ename = e if isinstance(e, str) else e["name"]
            val = (1 << (start + i)) if d["type"] == "flags" else start + i
            names[c_name(fam, d["name"], ename)] = val
    for s in spec["attribute-sets"]:
        n = 0
        for a in s["attributes"]:
            n = a.get("value", n + 1)
            names[c_name(fam, "a", s["name"], a["name"])] = n
        names[c_name(fam, "a", s["name"], "max")] = n
    n = 0
    for op in spec["operations"]["list"]:
        n = op.get("value", n + 1)
        names[c_name(fam, "cmd", op["name"])] = n
    names[c_name(fam, "cmd", "max")] = n
    for g in spec.get("mcast-groups", {}).get("list", []):
        strings[c_name(fam, "mcgrp", g["name"])] = g["name"]
    return names, strings


PERM_FLAGS = {"admin-perm": "GENL_ADMIN_PERM",
              "uns-admin-perm": "GENL_UNS_ADMIN_PERM"}


def check_perms(spec, kernel_c):
    """The spec's permission flags against the kernel's genl_ops table."""
    with open(kernel_c) as f:
        text = f.read()
    prefix = c_name(spec["name"], "cmd") + "_"
    entries = {}
    for m in re.finditer(r"\{([^{}]*\.cmd\s*=\s*(" + prefix + r"[A-Z0-9_]+)[^{}]*)\}",
                         text):
        entries[m.group(2)] = set(re.findall(r"\bGENL_[A-Z_]*PERM\b", m.group(1)))
    bad = 0
    for op in spec["operations"]["list"]:
        if "do" not in op and "dump" not in op:
            continue        # notifications have no handler
        cmd = c_name(spec["name"], "cmd", op["name"])
        want = set(PERM_FLAGS[f] for f in op.get("flags", []) if f in PERM_FLAGS)
        if cmd not in entries:
            print("%s has no entry in %s" % (cmd, kernel_c))
            bad = 1
        elif entries[cmd] != want:
            print("%s: the spec says %s, %s has %s" % (
                cmd, sorted(want) or "no permission flag", kernel_c,
                sorted(entries[cmd]) or "none"))
            bad = 1
    return bad


def main():
    spec_path, header = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    names, strings = expected(spec)

    prefix = c_name(spec["name"]) + "_"
    with open(header) as f:
        text = f.read()
    declared = set(re.findall(r"\b(" + prefix + r"[A-Z0-9_]+)\b", text))
    extra = sorted(n for n in declared
                   if n not in names and n not in strings
                   and not n.startswith("__"))
    if extra:
        print("header names not in the spec: " + ", ".join(extra))
        return 1

    for n, v in sorted(strings.items()):
        if not re.search(r'#define\s+%s\s+"%s"' % (n, re.escape(v)), text):
            print('header lacks #define %s "%s"' % (n, v))
            return 1

    lines = ['#include "%s"' % os.path.abspath(header)]
    for n, v in sorted(names.items()):
        lines.append('_Static_assert(%s == %d, "%s must be %d");' % (n, v, n, v))
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as src:
        src.write("\n".join(lines) + "\n")
    try:
        cc = os.environ.get("CC", "cc")
        r = subprocess.run([cc, "-std=c11", "-fsyntax-only", "-Werror", src.name],
                           capture_output=True, text=True)
    finally:
        os.unlink(src.name)
    if r.returncode:
        print(r.stderr, end="")
        return 1
    print("%s agrees with %s: %d names" % (header, spec_path,
                                           len(names) + len(strings)))
    if len(sys.argv) > 3:
        if check_perms(spec, sys.argv[3]):
            return 1
        print("%s's permissions agree with %s" % (sys.argv[3], spec_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
