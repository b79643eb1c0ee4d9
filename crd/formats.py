"""The string formats a CRD schema may name, and their checks (kube-openapi's strfmt registry).

kube drops every other format from a schema before validating (StripUnsupportedFormatsPostProcessor),
so `format: int32` on an integer means nothing at run time. Names compare with dashes removed, as
go-openapi normalizes them: `date-time` and `datetime` are one format.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from crd.goregex import compile_pattern

# apiserver/validation/formats.go supportedVersionedFormats, as of Kubernetes 1.35 (k8s-* since 1.34).
SUPPORTED_FORMATS = frozenset({
    "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac", "uuid", "uuid3", "uuid4",
    "uuid5", "isbn", "isbn10", "isbn13", "creditcard", "ssn", "hexcolor", "rgbcolor", "byte", "password",
    "date", "duration", "datetime", "k8sshortname", "k8slongname",
})


def normalize(name: str) -> str:
    """go-openapi's DefaultNameNormalizer."""
    return name.replace("-", "")


def supported(name: str) -> bool:
    return normalize(name) in SUPPORTED_FORMATS


# --- dates and durations (strfmt/date.go, time.go, duration.go) ---

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_date(value: str) -> bool:
    """time.Parse("2006-01-02"): exact digits, a real day of a real month."""
    m = _DATE.fullmatch(value)
    if not m:
        return False
    year, month, day = (int(g) for g in m.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1] + (month == 2 and leap)


def is_date_time(value: str) -> bool:
    """strfmt.IsDateTime: a date, a "t", and hh:mm:ss[.frac](z|±hh:mm), compared loosely as kube does."""
    if len(value) < 4:
        return False
    parts = value.lower().split("t")
    if len(parts) < 2 or not is_date(parts[0]):
        return False
    m = _TIME.search(parts[1])
    if m is None:
        return False
    return m.group(1) <= "23" and m.group(2) <= "59" and m.group(3) <= "59"


_GO_DURATION = re.compile(r"[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)")
_LOOSE_DURATION = re.compile(r"(\d+)\s*([A-Za-z\u00b5]+)")
_LOOSE_UNITS = (("ns", "nano"), ("us", "\u00b5s", "micro"), ("ms", "milli"), ("s", "sec"), ("m", "min"),
                ("h", "hr", "hour"), ("d", "day"), ("w", "wk", "week"))


def is_duration(value: str) -> bool:
    """time.ParseDuration, or strfmt's lenient fallback ("3 days", "1 hour")."""
    if _GO_DURATION.fullmatch(value):
        return True
    for _, unit in _LOOSE_DURATION.findall(value):
        unit = unit.strip().lower()
        for variants in _LOOSE_UNITS:
            if unit.startswith(variants[-1]) or any(unit == v.lower() for v in variants):
                return True
    return False


# --- networks (strfmt/default.go, netutils' sloppy parsers) ---

def _sloppy_v4(value: str) -> str | None:
    """netutils.ParseIPSloppy also reads IPv4 octets with leading zeros as decimals."""
    octets = value.split(".")
    if len(octets) != 4 or not all(o.isascii() and o.isdigit() and int(o) <= 255 for o in octets):
        return None
    return ".".join(str(int(o)) for o in octets)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    v4 = _sloppy_v4(value)
    if v4 is not None:
        return ipaddress.IPv4Address(v4)
    if "%" in value:  # Go's ParseIP takes no zone
        return None
    try:
        return ipaddress.IPv6Address(value)
    except ValueError:
        return None


def is_ipv4(value: str) -> bool:
    return _parse_ip(value) is not None and "." in value


def is_ipv6(value: str) -> bool:
    return _parse_ip(value) is not None and ":" in value


def is_cidr(value: str) -> bool:
    address, slash, bits = value.partition("/")
    if not slash or not bits.isascii() or not bits.isdigit() or len(bits) > 3:
        return False
    ip = _parse_ip(address)
    return ip is not None and int(bits) <= ip.max_prefixlen


_MAC = re.compile(
    r"(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5,19}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5,19}"
    r"|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2,9})"
)


def is_mac(value: str) -> bool:
    """net.ParseMAC: 6, 8 or 20 octets, colon-, dash- or dot-separated."""
    if not _MAC.fullmatch(value):
        return False
    octets = len(value.replace(".", "")) // 2 if "." in value else len(re.split("[:-]", value))
    return octets in (6, 8, 20)


_HOSTNAME = (r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-"
             r"\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$")
_HOSTNAME_ASCII = _HOSTNAME.replace(r"\p{S}\p{L}", "").replace(r"\p{L}", "")


def is_hostname(value: str) -> bool:
    try:
        search = compile_pattern(_HOSTNAME)
    except ValueError:  # Python's re has no \p classes: ASCII host names only
        search = compile_pattern(_HOSTNAME_ASCII)
    return bool(search(value)) and len(value.encode()) <= 255 and all(len(p.encode()) <= 63
                                                                      for p in value.split("."))


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_PORT = re.compile(r":[0-9]*$")


def is_request_uri(value: str) -> bool:
    """url.ParseRequestURI, approximately: an absolute URI or an absolute path, no control characters."""
    if not value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return False
    if value == "*" or value.startswith("/"):
        return True
    scheme = _SCHEME.match(value)
    if not scheme:
        return False
    rest = value[scheme.end():]
    if not rest.startswith("//"):
        return True
    host = re.split(r"[/?#]", rest[2:], maxsplit=1)[0].rpartition("@")[2]
    if " " in host:
        return False
    port = host.rpartition("]")[2] if host.startswith("[") else host
    return ":" not in port or bool(_PORT.search(port))


_ADDRESS = r"[^\s@<>\"]+@[^\s@<>]+"
_EMAIL = re.compile(rf"{_ADDRESS}|[^<>@]*<{_ADDRESS}>")


def is_email(value: str) -> bool:
    """mail.ParseAddress, approximately: `local@domain`, optionally as `Name <local@domain>`."""
    return bool(_EMAIL.fullmatch(value.strip()))


# --- identifiers and codes (govalidator, strfmt) ---

_UUID = r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?%s[0-9a-f]{3}-?%s[0-9a-f]{3}-?[0-9a-f]{12}$"
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})")
_K8S_SHORT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_K8S_LONG = re.compile(_K8S_SHORT + r"(\." + _K8S_SHORT + r")*")
_RGB_PART = r"\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*"
_CREDIT_CARD = re.compile(
    r"(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}"
    r"|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}"
    r"|6[27][0-9]{14})"
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def is_credit_card(value: str) -> bool:
    digits = re.sub(r"[\s-]+", "", value)
    return bool(_CREDIT_CARD.fullmatch(digits)) and _luhn(digits)


def is_isbn10(value: str) -> bool:
    s = re.sub(r"[\s-]+", "", value)
    if not re.fullmatch(r"[0-9]{9}X|[0-9]{10}", s):
        return False
    return sum((i + 1) * (10 if c == "X" else int(c)) for i, c in enumerate(s)) % 11 == 0


def is_isbn13(value: str) -> bool:
    s = re.sub(r"[\s-]+", "", value)
    if not re.fullmatch(r"[0-9]{13}", s):
        return False
    checksum = sum((1, 3)[i % 2] * int(c) for i, c in enumerate(s[:12]))
    return int(s[12]) == (10 - checksum % 10) % 10


def _matches(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: bool(compiled.search(value))


CHECKS: dict[str, Callable[[str], bool]] = {
    "bsonobjectid": _matches(r"^[0-9a-fA-F]{24}$"),
    "uri": is_request_uri,
    "email": is_email,
    "hostname": is_hostname,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "cidr": is_cidr,
    "mac": is_mac,
    "uuid": _matches(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"),
    "uuid3": _matches(_UUID % ("3", "")),
    "uuid4": _matches(_UUID % ("4", "[89ab]")),
    "uuid5": _matches(_UUID % ("5", "[89ab]")),
    "isbn": lambda v: is_isbn10(v) or is_isbn13(v),
    "isbn10": is_isbn10,
    "isbn13": is_isbn13,
    "creditcard": is_credit_card,
    "ssn": _matches(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$"),
    "hexcolor": _matches(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"),
    "rgbcolor": _matches(rf"^rgb\({_RGB_PART},{_RGB_PART},{_RGB_PART}\)$"),
    "byte": lambda v: bool(_BASE64.fullmatch(v)),
    "password": lambda v: True,
    "date": is_date,
    "duration": is_duration,
    "datetime": is_date_time,
    "k8sshortname": lambda v: len(v) <= 63 and bool(re.fullmatch(_K8S_SHORT, v)),  # strfmt ShortNameMaxLength
    "k8slongname": lambda v: len(v) <= 253 and bool(_K8S_LONG.fullmatch(v)),  # strfmt LongNameMaxLength
}


def check(name: str, value: str) -> bool:
    """Whether `value` is valid in the (supported) format `name`."""
    return CHECKS[normalize(name)](value)
