"""DNS-1035 labels, the rule kube holds CRD names, versions and kinds to (util/validation)."""

from __future__ import annotations

import re

DNS1035_LABEL_MAX_LENGTH = 63  # validation.DNS1035LabelMaxLength (RFC 1035)
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character"
)
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT)


def regex_error(msg: str, regex: str, *examples: str) -> str:
    """validation.RegexError, with its double space after each example's comma."""
    if not examples:
        return f"{msg} (regex used for validation is '{regex}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{regex}')"


def is_dns1035_label(value: str) -> list[str]:
    """validation.IsDNS1035Label: kube's messages, empty when valid."""
    errs: list[str] = []
    if len(value) > DNS1035_LABEL_MAX_LENGTH:
        errs.append(f"must be no more than {DNS1035_LABEL_MAX_LENGTH} characters")
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs
