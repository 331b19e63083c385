"""Kubernetes ``$(VAR)`` expansion in env values, command and args.

``$(NAME)`` becomes the variable's value when it is defined, and stays as written when it
is not; ``$$`` is a literal ``$`` (so ``$$(NAME)`` gives ``$(NAME)``); any other ``$`` is
kept. The same rules as kubernetes/third_party/forked/golang/expansion.
"""

from __future__ import annotations

from collections.abc import Mapping


def expand(text: str, variables: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            close = text.find(")", i + 2)
            if close == -1:  # incomplete: keep "$(" and go on after it
                out.append("$(")
                i += 2
                continue
            name = text[i + 2:close]
            out.append(variables[name] if name in variables else text[i:close + 1])
            i = close + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)
