#!/usr/bin/env python3
"""Validate JSON-lines event files (plain or gzip, any number of members) against schemas/event.schema.json.

Usage: check_events.py [--schema PATH] [--strict-kinds] FILE_OR_DIR...

Gzip is detected by magic bytes, not by name. A torn last line (no newline) is reported but is
not an error: it is what a crash leaves and readers skip it. Exit status: 0 when every line is
valid, 1 when any line is invalid, 2 on usage errors.
"""
import argparse
import gzip
import json
import os
import sys
import zlib

try:
    import jsonschema
except ImportError:  # pragma: no cover
    sys.exit("check_events.py needs jsonschema: pip install jsonschema")


def read_bytes(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] != b"\x1f\x8b":
        return data, None
    out, rest, problem = [], data, None
    while rest:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out.append(decompressor.decompress(rest))
        except zlib.error as error:
            problem = f"corrupt gzip member: {error}"
            break
        if not decompressor.eof:
            problem = "input ends inside a gzip member (torn tail)"
            break
        rest = decompressor.unused_data
    return b"".join(out), problem


def files_of(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in os.walk(path):
                for name in sorted(names):
                    if ".jsonl" in name and not name.endswith(".tmp"):
                        yield os.path.join(root, name)
        else:
            yield path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--schema", default=os.path.join(here, "..", "..", "schemas", "event.schema.json"))
    parser.add_argument("--strict-kinds", action="store_true", help="reject kinds the schema does not list")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    with open(args.schema) as handle:
        schema = json.load(handle)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    known = {entry["if"]["properties"]["event"]["const"] for entry in schema["allOf"] if "then" in entry and "attrs" in entry["then"].get("properties", {})}
    files = lines = bad = 0
    for path in files_of(args.paths):
        files += 1
        data, problem = read_bytes(path)
        if problem:
            print(f"{path}: note: {problem}")
        chunks = data.split(b"\n")
        if chunks and chunks[-1]:
            print(f"{path}:{len(chunks)}: note: torn last line without newline ({len(chunks[-1])} bytes), skipped")
        for number, raw in enumerate(chunks[:-1], start=1):
            lines += 1
            try:
                event = json.loads(raw)
            except ValueError as error:
                bad += 1
                print(f"{path}:{number}: not JSON: {error}")
                continue
            errors = sorted(validator.iter_errors(event), key=lambda e: list(e.path))
            if args.strict_kinds and isinstance(event, dict) and event.get("event") not in known:
                errors.append(jsonschema.ValidationError(f"unknown kind {event.get('event')!r}"))
            for error in errors[:3]:
                print(f"{path}:{number}: {'/'.join(map(str, error.path)) or '(line)'}: {error.message}")
            if errors:
                bad += 1
    print(f"checked {lines} lines in {files} files: {lines - bad} valid, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
