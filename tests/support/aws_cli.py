"""A stand-in for the `aws` command lines of the docs' walkthroughs, named as one: each line becomes the
boto3 call it names (service, operation, `--kebab-case` parameters looked up in the real service model),
on whatever the session points at (moto). `--query` (JMESPath) and `--output text` shape what it prints
as the AWS CLI does for a scalar; the `--*-outfile` options of `iot create-keys-and-certificate` write the
certificate and keys. An option the operation does not have fails, so a wrong page cannot pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import jmespath
from botocore import xform_name

# Output files of `aws iot create-keys-and-certificate` (an AWS CLI customisation) -> response fields.
_OUTFILES = {
    "certificate-pem-outfile": "certificatePem",
    "private-key-outfile": "keyPair.PrivateKey",
    "public-key-outfile": "keyPair.PublicKey",
}


def run_aws(session: boto3.session.Session, words: list[str], directory: Path) -> str:
    """What `aws SERVICE OPERATION --option value ...` prints (text for a scalar --query, else JSON)."""
    if words[0] != "aws" or len(words) < 3:
        raise ValueError(f"not an aws command line: {' '.join(words)}")
    service, operation, options = words[1], words[2], words[3:]
    client = session.client(service)  # type: ignore[call-overload]
    model = client.meta.service_model
    names = {xform_name(name, "-"): name for name in model.operation_names}
    operation_model = model.operation_model(names[operation])
    members = operation_model.input_shape.members if operation_model.input_shape else {}
    by_option = {xform_name(name, "-"): name for name in members}
    params: dict[str, Any] = {}
    query, outfiles = None, {}
    index = 0
    while index < len(options):
        option = options[index].removeprefix("--")
        value = options[index + 1] if index + 1 < len(options) and not options[index + 1].startswith("--") else None
        index += 1 if value is None else 2
        if option == "query":
            query = value
        elif option == "output":
            continue
        elif option in _OUTFILES:
            outfiles[option] = value
        elif option in by_option and members[by_option[option]].type_name == "boolean":
            params[by_option[option]] = value is None or value == "true"
        elif option in by_option:
            shape = members[by_option[option]]
            params[by_option[option]] = int(value) if shape.type_name in ("integer", "long") else value  # type: ignore[arg-type]
        else:
            raise ValueError(f"aws {service} {operation} has no option --{option}")
    response = getattr(client, xform_name(operation_model.name))(**params)
    response.pop("ResponseMetadata", None)
    for option, path in outfiles.items():
        (directory / str(path)).write_text(jmespath.search(_OUTFILES[option], response))
    result = jmespath.search(query, response) if query else response
    return f"{result}\n" if isinstance(result, str | int | float) else json.dumps(result, indent=4, default=str) + "\n"
