"""Validates AWS request parameters against the service models botocore ships (the models the aws CLI uses).

stdin: a JSON list of {"name", "service", "operation", "params"} (optional "coerce": convert strings to the
members' number and boolean types first); stdout: a JSON list of {"name", "errors"}.
Exit 0 with the verdicts, 2 when botocore is missing or the input is not what it should be.

botocore's ParamValidator checks what the CLI checks before sending: unknown and missing members, types, `min`.
AWS checks more on its side, so this also checks what the models say and ParamValidator leaves out: `max`
(lengths, sizes, values), `enum`, and `pattern` (matched against the whole value, as AWS does: "Member must
satisfy regular expression pattern: ^(...)$").
"""

import json
import sys

try:
    import botocore.session
    from botocore.validate import ParamValidator
except ImportError as err:  # fail loudly: a missing judge must not look like a pass
    sys.stderr.write(f"botocore is not installed ({err}); install the aws CLI or `pip install botocore`\n")
    sys.exit(2)

try:  # the models' patterns use \p{L} and friends, which only the `regex` module understands
    import regex as re_engine
except ImportError:
    import re as re_engine

    sys.stderr.write("python module `regex` missing: patterns with \\p{...} classes are not checked\n")


def check_constraints(value, shape, path, errors, patterns):
    """The model constraints ParamValidator does not check: max, enum, pattern."""
    if value is None:
        return
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():
            if key in value:
                check_constraints(value[key], member, f"{path}.{key}" if path else key, errors, patterns)
        return
    if kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} items, at most {meta['max']}")
        for i, item in enumerate(value):
            check_constraints(item, shape.member, f"{path}[{i}]", errors, patterns)
        return
    if kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} entries, at most {meta['max']}")
        for key, item in value.items():
            check_constraints(key, shape.key, f"{path} key {key!r}", errors, patterns)
            check_constraints(item, shape.value, f"{path}.{key}", errors, patterns)
        return
    if kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: length {len(value)}, at most {meta['max']}")
        if shape.enum and value not in shape.enum:
            errors.append(f"{path}: {value!r} is not one of {', '.join(shape.enum)}")
        pattern = meta.get("pattern")
        if pattern is not None:
            compiled = patterns.get(pattern)
            if compiled is None and pattern not in patterns:
                try:
                    compiled = re_engine.compile(pattern)
                except Exception:  # noqa: BLE001 - an engine that cannot read it cannot judge it
                    compiled = None
                patterns[pattern] = compiled
            if compiled is not None and compiled.fullmatch(value) is None:
                errors.append(f"{path}: does not match the pattern {pattern}")
        return
    if kind in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if "max" in meta and value > meta["max"]:
            errors.append(f"{path}: {value}, at most {meta['max']}")


def coerce(value, shape):
    """CloudFormation passes every parameter as a string and converts it to the type of the property it lands in
    (a Number parameter in `ContainerPort`, "true" in a boolean): the same conversion, by the API's shapes."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: coerce(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [coerce(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: coerce(v, shape.value) for k, v in value.items()}
    if isinstance(value, str):
        try:
            if kind in ("integer", "long"):
                return int(value)
            if kind in ("float", "double"):
                return float(value)
        except ValueError:
            return value
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def main():
    try:
        requests = json.load(sys.stdin)
    except ValueError as err:
        sys.stderr.write(f"input is not JSON: {err}\n")
        sys.exit(2)
    session = botocore.session.get_session()
    validator = ParamValidator()
    models = {}
    patterns = {}
    out = []
    for req in requests:
        service, operation = req["service"], req["operation"]
        if service not in models:
            models[service] = session.get_service_model(service)
        op = models[service].operation_model(operation)
        if req.get("coerce"):
            req["params"] = coerce(req["params"], op.input_shape)
        report = validator.validate(req["params"], op.input_shape)
        errors = [line.strip() for line in report.generate_report().splitlines() if line.strip()]
        check_constraints(req["params"], op.input_shape, "", errors, patterns)
        out.append({"name": req.get("name", f"{service} {operation}"), "errors": errors})
    json.dump(out, sys.stdout)


main()
