#!/usr/bin/env python3
"""Renders exported chat examples through a Jinja chat template the way
Hugging Face's apply_chat_template does (a sandboxed environment with
trim_blocks and lstrip_blocks, a tojson without HTML escaping, and
raise_exception), one example a line on stdin: messages and tools, or a
prompt and its completion. Each rendering is followed by a line "~~~".
A template error is printed with the example's line number; exit 1.

usage: chat-render.py TEMPLATE < examples.jsonl
"""
import json
import sys

from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateRefused(Exception):
    pass


def raise_exception(message):
    raise TemplateRefused(message)


def main():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.globals["raise_exception"] = raise_exception
    with open(sys.argv[1], encoding="utf-8") as f:
        template = env.from_string(f.read())
    for n, line in enumerate(sys.stdin, 1):
        example = json.loads(line)
        messages = example.get("messages") or example["prompt"] + example["completion"]
        try:
            text = template.render(messages=messages, tools=example.get("tools"),
                                   add_generation_prompt=False)
        except TemplateRefused as e:
            print(f"chat-render.py: line {n}: {e}", file=sys.stderr)
            return 1
        sys.stdout.write(text + "~~~\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
