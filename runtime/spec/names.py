"""Name, label and path rules of k8s.io/apimachinery/pkg/util/validation, with the API server's messages.

Each check returns a list of messages (empty when valid), as the Go functions do;
callers wrap them into field errors.
"""

from __future__ import annotations

import ipaddress
import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + r"(\." + _LABEL + r")*"
_DNS1123_LABEL_RE = re.compile(f"^{_LABEL}$")
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_SUBDOMAIN}$")
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME}$")
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE}$")
_IANA_SVC_NAME_RE = re.compile(r"^[-a-z0-9]+$")
_IANA_HAS_LETTER_RE = re.compile(r"[a-z]")
_CONFIG_KEY = r"[-._a-zA-Z0-9]+"
_CONFIG_KEY_RE = re.compile(f"^{_CONFIG_KEY}$")
_SYSCTL = r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
_SYSCTL_RE = re.compile(f"^{_SYSCTL}$")


def _regex_message(what: str, pattern: str, examples: list[str]) -> str:
    shown = ",  or ".join(f"'{e}'" for e in examples)
    return f"{what} (e.g. {shown}, regex used for validation is '{pattern}')"


def dns1123_label(value: str) -> list[str]:
    errors = []
    if len(value) > DNS1123_LABEL_MAX:
        errors.append(f"must be no more than {DNS1123_LABEL_MAX} characters")
    if not _DNS1123_LABEL_RE.match(value):
        errors.append(_regex_message(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character", _LABEL, ["my-name", "123-abc"]))
    return errors


def dns1123_subdomain(value: str) -> list[str]:
    errors = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errors.append(_regex_message(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character", _SUBDOMAIN, ["example.com"]))
    return errors


def qualified_name(value: str) -> list[str]:
    """A label or annotation key: an optional DNS subdomain prefix, '/', and a name of up to 63 characters."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        return [f"prefix part {m}" for m in dns1123_subdomain(prefix)] + _qualified_name_part(name)
    else:
        return [_regex_message(
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character", _QUALIFIED_NAME, ["MyName", "my.name", "123-abc"])
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    return _qualified_name_part(name)


def _qualified_name_part(name: str) -> list[str]:
    if not name:
        return ["name part must be non-empty"]
    errors = []
    if len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME_RE.match(name):
        errors.append(_regex_message(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character", _QUALIFIED_NAME, ["MyName", "my.name", "123-abc"]))
    return errors


def label_value(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errors.append(_regex_message(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character", _LABEL_VALUE,
            ["MyValue", "my_value", "12345"]))
    return errors


def iana_svc_name(value: str) -> list[str]:
    """A port name: at most 15 lowercase alphanumerics or '-', with a letter, no '--' and no edge '-'."""
    errors = []
    if len(value) > 15:
        errors.append("must be no more than 15 characters")
    if not _IANA_SVC_NAME_RE.match(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if not _IANA_HAS_LETTER_RE.search(value):
        errors.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def env_var_name(value: str) -> list[str]:
    """Relaxed rule (RelaxedEnvironmentVariableValidation, GA in Kubernetes 1.34)."""
    if value and all(32 <= ord(c) <= 126 and c != "=" for c in value):
        return []
    return ["a valid environment variable name must consist only of printable ASCII characters other than '='"]


def config_map_key(value: str) -> list[str]:
    errors = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not _CONFIG_KEY_RE.match(value):
        errors.append(_regex_message("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                     _CONFIG_KEY, ["key.name", "KEY_NAME", "key-name"]))
    if value in (".", ".."):
        errors.append(f"must not be '{value}'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def sysctl_name(value: str) -> list[str]:
    if len(value) <= 253 and _SYSCTL_RE.match(value):
        return []
    return [f"must have at most 253 characters and match regex ^{_SYSCTL}$"]


def ip_address(value: str) -> list[str]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []


def relative_path(value: str) -> list[str]:
    """A path inside a volume: relative, and never stepping out with '..'."""
    errors = []
    if value.startswith("/"):
        errors.append("must be a relative path")
    if ".." in value.split("/"):
        errors.append("must not contain '..'")
    return errors
