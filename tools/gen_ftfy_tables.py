#!/usr/bin/python3
"""Generate model/tok_ftfy_tables.c: the character data of ftfy 6.3's mojibake
repair (fix_encoding), which the CLIP reference runs through ftfy.fix_text.

  * the classes of ftfy.badness (MOJIBAKE_CATEGORIES) used by its is_bad()
    heuristic, and the UTF-8 "clue" classes of ftfy.chardata used by
    UTF8_DETECTOR_RE (derived here from the same single-byte encodings);
  * the byte -> character tables of the single-byte encodings ftfy tries
    (CHARMAP_ENCODINGS), in ftfy's "sloppy" form where it uses one.

ftfy is MIT-licensed (Robyn Speer); the classes are listed by character name
as ftfy lists them. Run with the Python of the golden files and commit:

    /usr/bin/python3 tools/gen_ftfy_tables.py > model/tok_ftfy_tables.c
"""
import unicodedata

N = unicodedata.lookup


def chars(spec):
    """spec: list of names, single characters, or (first, last) ranges."""
    out = set()
    for s in spec:
        if isinstance(s, tuple):
            a, b = s
            a = ord(a) if len(a) == 1 else ord(N(a))
            b = ord(b) if len(b) == 1 else ord(N(b))
            out.update(range(a, b + 1))
        elif len(s) == 1:
            out.add(ord(s))
        else:
            out.add(ord(N(s)))
    return out


CATEGORIES = {
    "COMMON": chars(["NO-BREAK SPACE", "SOFT HYPHEN", "MIDDLE DOT", "ACUTE ACCENT", "EN DASH", "EM DASH",
                     "HORIZONTAL BAR", "HORIZONTAL ELLIPSIS", "RIGHT SINGLE QUOTATION MARK"]),
    "C1": set(range(0x80, 0xA0)),
    "BAD": chars(["BROKEN BAR", "CURRENCY SIGN", "DIAERESIS", "NOT SIGN", "MACRON", "CEDILLA",
                  "LATIN SMALL LETTER F WITH HOOK", "MODIFIER LETTER CIRCUMFLEX ACCENT", "CARON", "BREVE",
                  "OGONEK", "SMALL TILDE", "DAGGER", "DOUBLE DAGGER", "PER MILLE SIGN", "REVERSED NOT SIGN",
                  "LOZENGE", "\ufffd", "FEMININE ORDINAL INDICATOR", "MASCULINE ORDINAL INDICATOR"]),
    "LAW": chars(["PILCROW SIGN", "SECTION SIGN"]),
    "CURRENCY": chars(["CENT SIGN", "POUND SIGN", "YEN SIGN", "PESETA SIGN", "EURO SIGN"]),
    "START": chars(["INVERTED EXCLAMATION MARK", "LEFT-POINTING DOUBLE ANGLE QUOTATION MARK",
                    "INVERTED QUESTION MARK", "COPYRIGHT SIGN", "GREEK TONOS", "GREEK DIALYTIKA TONOS",
                    "LEFT SINGLE QUOTATION MARK", "SINGLE LOW-9 QUOTATION MARK", "LEFT DOUBLE QUOTATION MARK",
                    "DOUBLE LOW-9 QUOTATION MARK", "BULLET", "SINGLE LEFT-POINTING ANGLE QUOTATION MARK",
                    "\uf8ff"]),
    "END": chars(["REGISTERED SIGN", "RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK", "DOUBLE ACUTE ACCENT",
                  "RIGHT DOUBLE QUOTATION MARK", "SINGLE RIGHT-POINTING ANGLE QUOTATION MARK", "TRADE MARK SIGN"]),
    "NUMERIC": chars(["SUPERSCRIPT TWO", "SUPERSCRIPT THREE", "SUPERSCRIPT ONE", "PLUS-MINUS SIGN",
                      "VULGAR FRACTION ONE QUARTER", "VULGAR FRACTION ONE HALF", "VULGAR FRACTION THREE QUARTERS",
                      "MULTIPLICATION SIGN", "MICRO SIGN", "DIVISION SIGN", "FRACTION SLASH",
                      "PARTIAL DIFFERENTIAL", "INCREMENT", "N-ARY PRODUCT", "N-ARY SUMMATION", "SQUARE ROOT",
                      "INFINITY", "INTERSECTION", "INTEGRAL", "ALMOST EQUAL TO", "NOT EQUAL TO", "IDENTICAL TO",
                      "LESS-THAN OR EQUAL TO", "GREATER-THAN OR EQUAL TO", "NUMERO SIGN"]),
    "KAOMOJI": chars([("Ò", "Ö"), ("Ù", "Ü"), ("ò", "ö"), ("ø", "ü"), "LATIN CAPITAL LETTER O WITH DOUBLE ACUTE",
                      "LATIN CAPITAL LETTER O WITH MACRON", "LATIN CAPITAL LETTER U WITH MACRON",
                      "LATIN CAPITAL LETTER U WITH OGONEK", "DEGREE SIGN"]),
    "UPPER_ACC": chars([("\xc0", "\xd1"), "LATIN CAPITAL LETTER O WITH STROKE", "LATIN CAPITAL LETTER U WITH DIAERESIS",
                        "LATIN CAPITAL LETTER Y WITH ACUTE", "LATIN CAPITAL LETTER A WITH BREVE",
                        "LATIN CAPITAL LETTER A WITH MACRON", "LATIN CAPITAL LETTER A WITH OGONEK",
                        "LATIN CAPITAL LETTER C WITH ACUTE", "LATIN CAPITAL LETTER C WITH CARON",
                        "LATIN CAPITAL LETTER D WITH CARON", "LATIN CAPITAL LETTER D WITH STROKE",
                        "LATIN CAPITAL LETTER E WITH OGONEK", "LATIN CAPITAL LETTER E WITH CARON",
                        "LATIN CAPITAL LETTER E WITH MACRON", "LATIN CAPITAL LETTER E WITH DOT ABOVE",
                        "LATIN CAPITAL LETTER G WITH BREVE", "LATIN CAPITAL LETTER G WITH CEDILLA",
                        "LATIN CAPITAL LETTER I WITH DOT ABOVE", "LATIN CAPITAL LETTER I WITH MACRON",
                        "LATIN CAPITAL LETTER K WITH CEDILLA", "LATIN CAPITAL LETTER L WITH ACUTE",
                        "LATIN CAPITAL LETTER L WITH CARON", "LATIN CAPITAL LETTER L WITH STROKE",
                        "LATIN CAPITAL LETTER L WITH CEDILLA", "LATIN CAPITAL LETTER N WITH ACUTE",
                        "LATIN CAPITAL LETTER N WITH CARON", "LATIN CAPITAL LETTER N WITH CEDILLA",
                        "LATIN CAPITAL LIGATURE OE", "LATIN CAPITAL LETTER R WITH CARON",
                        "LATIN CAPITAL LETTER S WITH ACUTE", "LATIN CAPITAL LETTER S WITH CEDILLA",
                        "LATIN CAPITAL LETTER S WITH CARON", "LATIN CAPITAL LETTER T WITH CEDILLA",
                        "LATIN CAPITAL LETTER T WITH CARON", "LATIN CAPITAL LETTER U WITH RING ABOVE",
                        "LATIN CAPITAL LETTER U WITH DOUBLE ACUTE", "LATIN CAPITAL LETTER Y WITH DIAERESIS",
                        "LATIN CAPITAL LETTER Z WITH ACUTE", "LATIN CAPITAL LETTER Z WITH DOT ABOVE",
                        "LATIN CAPITAL LETTER Z WITH CARON", "CYRILLIC CAPITAL LETTER GHE WITH UPTURN"]),
    "LOWER_ACC": chars(["LATIN SMALL LETTER SHARP S", ("\xe0", "\xf1"), "LATIN SMALL LETTER A WITH BREVE",
                        "LATIN SMALL LETTER A WITH OGONEK", "LATIN SMALL LETTER A WITH MACRON",
                        "LATIN SMALL LETTER C WITH ACUTE", "LATIN SMALL LETTER C WITH CARON",
                        "LATIN SMALL LETTER D WITH CARON", "LATIN SMALL LETTER D WITH STROKE",
                        "LATIN SMALL LETTER E WITH OGONEK", "LATIN SMALL LETTER E WITH CARON",
                        "LATIN SMALL LETTER E WITH MACRON", "LATIN SMALL LETTER E WITH DOT ABOVE",
                        "LATIN SMALL LETTER G WITH BREVE", "LATIN SMALL LETTER G WITH CEDILLA",
                        "LATIN SMALL LETTER I WITH OGONEK", "LATIN SMALL LETTER I WITH MACRON",
                        "LATIN SMALL LETTER K WITH CEDILLA", "LATIN SMALL LETTER L WITH ACUTE",
                        "LATIN SMALL LETTER L WITH CARON", "LATIN SMALL LETTER L WITH STROKE",
                        "LATIN SMALL LETTER L WITH CEDILLA", "LATIN SMALL LIGATURE OE",
                        "LATIN SMALL LETTER R WITH ACUTE", "LATIN SMALL LETTER S WITH ACUTE",
                        "LATIN SMALL LETTER S WITH CEDILLA", "LATIN SMALL LETTER S WITH CARON",
                        "LATIN SMALL LETTER T WITH CARON", "LATIN SMALL LETTER U WITH DIAERESIS",
                        "LATIN SMALL LETTER Z WITH ACUTE", "LATIN SMALL LETTER Z WITH DOT ABOVE",
                        "LATIN SMALL LETTER Z WITH CARON", "CYRILLIC SMALL LETTER GHE WITH UPTURN",
                        "LATIN SMALL LIGATURE FI", "LATIN SMALL LIGATURE FL"]),
    "UPPER_COMMON": chars(["LATIN CAPITAL LETTER THORN", ("GREEK CAPITAL LETTER ALPHA", "GREEK CAPITAL LETTER OMEGA"),
                           "GREEK CAPITAL LETTER ALPHA WITH TONOS", "GREEK CAPITAL LETTER EPSILON WITH TONOS",
                           "GREEK CAPITAL LETTER ETA WITH TONOS", "GREEK CAPITAL LETTER IOTA WITH TONOS",
                           "GREEK CAPITAL LETTER OMICRON WITH TONOS", "GREEK CAPITAL LETTER UPSILON WITH TONOS",
                           "GREEK CAPITAL LETTER OMEGA WITH TONOS", "GREEK CAPITAL LETTER IOTA WITH DIALYTIKA",
                           "GREEK CAPITAL LETTER UPSILON WITH DIALYTIKA",
                           ("CYRILLIC CAPITAL LETTER IO", "CYRILLIC CAPITAL LETTER YA")]),
    "LOWER_COMMON": chars([("GREEK SMALL LETTER ALPHA", "GREEK SMALL LETTER OMEGA"),
                           "GREEK SMALL LETTER ALPHA WITH TONOS", "GREEK SMALL LETTER EPSILON WITH TONOS",
                           "GREEK SMALL LETTER ETA WITH TONOS", "GREEK SMALL LETTER IOTA WITH TONOS",
                           "GREEK SMALL LETTER UPSILON WITH DIALYTIKA AND TONOS",
                           ("CYRILLIC SMALL LETTER A", "CYRILLIC SMALL LETTER DZHE")]),
    "BOX": chars(list("│┌┐┘├┤┬┼") + [("BOX DRAWINGS DOUBLE HORIZONTAL", "BOX DRAWINGS DOUBLE VERTICAL AND HORIZONTAL")]
                 + list("▀▄█▌▐░▒▓")),
}

# ftfy.chardata.CHARMAP_ENCODINGS, in the order fix_encoding tries them.
ENCODINGS = ["latin-1", "sloppy-windows-1252", "sloppy-windows-1251", "sloppy-windows-1250", "sloppy-windows-1253",
             "sloppy-windows-1254", "sloppy-windows-1257", "iso-8859-2", "macroman", "cp437"]


def decode_table(enc):
    """Characters of bytes 0..255 (ftfy.bad_codecs.sloppy for sloppy-*)."""
    if enc.startswith("sloppy-"):
        base = enc[len("sloppy-"):]
        table = list(bytes(range(256)).decode("latin-1"))
        for i, ch in enumerate(bytes(range(256)).decode(base, errors="replace")):
            if ch != "\ufffd":
                table[i] = ch
        table[0x1A] = "\ufffd"
        return table
    return list(bytes(range(256)).decode(enc))


# UTF8_CLUES: the characters that bytes of each UTF-8 role decode to in the
# Latin-1-like encodings ftfy considers (sloppy windows-125x and latin-1).
CLUE_ENCODINGS = ["latin-1", "sloppy-windows-1250", "sloppy-windows-1251", "sloppy-windows-1252",
                  "sloppy-windows-1253", "sloppy-windows-1254", "sloppy-windows-1257"]


def clue(byte_range, encs):
    out = set()
    for e in encs:
        t = decode_table(e)
        for b in byte_range:
            out.add(ord(t[b]))
    return out


FIRST2 = clue(range(0xC2, 0xE0), [e for e in CLUE_ENCODINGS if e != "sloppy-windows-1252"])
FIRST3 = clue(range(0xE0, 0xF0), [e for e in CLUE_ENCODINGS if e != "sloppy-windows-1252"])
FIRST4 = clue([0xF0, 0xF3], [e for e in CLUE_ENCODINGS if e != "sloppy-windows-1252"])
CONT = clue(range(0x80, 0xC0), CLUE_ENCODINGS) | set(range(0x80, 0xC0)) | {0x20}
CONT_STRICT = CONT - {0x20, 0x2013, 0x2014, 0x2015, 0x2018, 0x2019, 0x201A, 0x201C, 0x201D, 0x201E, 0x2022, 0x2026}
CATEGORIES["U8_FIRST2"] = FIRST2
CATEGORIES["U8_FIRST3"] = FIRST3
CATEGORIES["U8_FIRST4"] = FIRST4
CATEGORIES["U8_CONT"] = CONT
CATEGORIES["U8_CONT_STRICT"] = CONT_STRICT


def main():
    names = list(CATEGORIES)
    allcp = sorted(set().union(*CATEGORIES.values()))
    print("/* Generated by tools/gen_ftfy_tables.py: do not edit. Character data of ftfy 6.3's")
    print(" * mojibake repair (ftfy is MIT-licensed, Robyn Speer). */")
    print('#include "tok_ftfy_tables.h"')
    print()
    print("const pf_ftfy_class pf_ftfy_classes[] = {")
    for cp in allcp:
        bits = " | ".join("FT_" + n for n in names if cp in CATEGORIES[n])
        print("    {0x%04X, %s}," % (cp, bits))
    print("};")
    print("const int pf_ftfy_n_classes = %d;" % len(allcp))
    print()
    print("/* Characters of bytes 0x80..0xFF in each encoding; sloppy ones also decode 0x1A as U+FFFD. */")
    print("const pf_ftfy_encoding pf_ftfy_encodings[] = {")
    for e in ENCODINGS:
        t = decode_table(e)
        row = ", ".join("0x%04X" % ord(c) for c in t[0x80:])
        print('    {"%s", %d, {%s}},' % (e, 1 if e.startswith("sloppy") else 0, row))
    print("};")
    print("const int pf_ftfy_n_encodings = %d;" % len(ENCODINGS))
    # the FT_* bits of model/tok_ftfy_tables.h must follow this order
    assert names == ["COMMON", "C1", "BAD", "LAW", "CURRENCY", "START", "END", "NUMERIC", "KAOMOJI", "UPPER_ACC",
                     "LOWER_ACC", "UPPER_COMMON", "LOWER_COMMON", "BOX", "U8_FIRST2", "U8_FIRST3", "U8_FIRST4",
                     "U8_CONT", "U8_CONT_STRICT"]


main()
