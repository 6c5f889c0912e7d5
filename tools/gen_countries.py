#!/usr/bin/env python3
"""Generate runtime/iso3166.c and stdlib/countries.mtcr from Debian's iso-codes.

Usage (from the repository root):  python3 tools/gen_countries.py
Input: /usr/share/iso-codes/json/iso_3166-1.json (Debian package iso-codes), or the
path given as the first argument.  The build does not run this script; both outputs
are committed, so rerun it only when iso-codes changes.

Both outputs list the entries in the same order (sorted by alpha-2), so the index of a
member of the `country` enum equals its index in val_countries.
"""
import json
import sys

SRC = "/usr/share/iso-codes/json/iso_3166-1.json"


def c_string(s):
    out = []
    for b in s.encode("utf-8"):
        ch = chr(b)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F and ch != "?":  # '?' avoids trigraphs
            out.append(ch)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def mtcr_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def index_rows(table, per_line):
    lines = []
    for i in range(0, len(table), per_line):
        lines.append("    " + ", ".join("%d" % v for v in table[i:i + per_line]) + ",")
    return "\n".join(lines)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else SRC
    with open(src, encoding="utf-8") as f:
        entries = json.load(f)["3166-1"]
    rows = []
    for e in entries:
        a2, a3 = e["alpha_2"], e["alpha_3"]
        assert len(a2) == 2 and a2.isascii() and a2.isalpha() and a2.isupper(), a2
        assert len(a3) == 3 and a3.isascii() and a3.isalpha() and a3.isupper(), a3
        rows.append((a2, a3, e.get("common_name", e["name"])))
    rows.sort()
    assert len(rows) < 32767

    a2_index = [-1] * (26 * 26)
    a3_index = [-1] * (26 * 26 * 26)
    for i, (a2, a3, _) in enumerate(rows):
        k2 = (ord(a2[0]) - 65) * 26 + (ord(a2[1]) - 65)
        k3 = ((ord(a3[0]) - 65) * 26 + (ord(a3[1]) - 65)) * 26 + (ord(a3[2]) - 65)
        assert a2_index[k2] == -1 and a3_index[k3] == -1
        a2_index[k2] = i
        a3_index[k3] = i

    with open("runtime/iso3166.c", "w", encoding="utf-8") as f:
        f.write("/* iso3166.c — ISO 3166-1 country table, generated from Debian's iso-codes\n"
                " * (iso_3166-1.json) by tools/gen_countries.py.  Do not edit; rerun the script.\n"
                " *\n"
                " * Entries are sorted by alpha-2 and in the same order as the members of the\n"
                " * `country` enum in stdlib/countries.mtcr.  The lookup tables are indexed by the\n"
                " * upper-case letters of a code (A = 0): alpha-2 as c0*26 + c1, alpha-3 as\n"
                " * (c0*26 + c1)*26 + c2; they hold an index into val_countries or -1.  They are\n"
                " * constant data, so lookups need no initialisation and are thread-safe. */\n")
        f.write('#include "runtime/value.h"\n\n')
        f.write("const val_country val_countries[] = {\n")
        for a2, a3, name in rows:
            f.write('    {"%s", "%s", %s},\n' % (a2, a3, c_string(name)))
        f.write("};\n\n")
        f.write("const size_t val_ncountries = sizeof val_countries / sizeof val_countries[0];\n\n")
        f.write("const int16_t val_iso_alpha2_index[26 * 26] = {\n")
        f.write(index_rows(a2_index, 26) + "\n};\n\n")
        f.write("const int16_t val_iso_alpha3_index[26 * 26 * 26] = {\n")
        f.write(index_rows(a3_index, 26) + "\n};\n")

    with open("stdlib/countries.mtcr", "w", encoding="utf-8") as f:
        f.write("// Generated from Debian's iso-codes (iso_3166-1.json) by tools/gen_countries.py;\n"
                "// do not edit.  Every ISO 3166-1 entry, sorted by alpha-2 code; the title is the\n"
                "// common name.  Input cells are read as alpha-2 or alpha-3 codes, any case.\n"
                "module countries;\n\n"
                'enum country "country (ISO 3166-1)" {\n')
        for i, (a2, _, name) in enumerate(rows):
            sep = "," if i + 1 < len(rows) else ""
            f.write("  %s %s%s\n" % (a2, mtcr_string(name), sep))
        f.write("}\n")


if __name__ == "__main__":
    main()
