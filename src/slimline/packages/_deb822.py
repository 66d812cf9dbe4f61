"""Debian control-file paragraphs (deb822): dpkg's status database and machine-readable copyright.

Hand-written rather than python-debian's: the status file of a large image holds a thousand
paragraphs, and this reader does only what the catalogers need, tolerating anything malformed.
"""

from __future__ import annotations

from collections.abc import Iterator


def paragraphs(text: str) -> Iterator[dict[str, str]]:
    """Each paragraph as {lower-cased field name: value}; continuation lines join with "\\n".

    Lines that are neither a field nor a continuation (garbage, a PGP armour line) are skipped;
    a field repeated within one paragraph keeps its last value, as dpkg does.
    """
    fields: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
                fields = {}
            name = ""
            continue
        first = line[0]
        if first == " " or first == "\t":
            if name:
                fields[name] += "\n" + line.strip()
            continue
        if first == "#":
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key:
            name = ""
            continue
        name = key.lower()
        fields[name] = value.strip()
    if fields:
        yield fields


def relation_names(value: str) -> tuple[str, ...]:
    """Package names in a Depends-style field, alternatives included, without versions or
    architecture qualifiers: "libc6 (>= 2.34), a | b:any" gives ("libc6", "a", "b")."""
    names: dict[str, None] = {}
    for group in value.split(","):
        for alternative in group.split("|"):
            name = alternative.strip()
            for stop in " (:[<":
                name = name.partition(stop)[0]
            if name:
                names[name] = None
    return tuple(names)
