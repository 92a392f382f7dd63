# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One value of a compose `env_file` (.env.local), written so the container gets exactly that value.

Double quotes, with \\ " $ and the line breaks escaped. As measured with Docker Compose v2.40 (the lab's): inside
double quotes `\\\\` `\\"` `\\$` `\\n` `\\r` `\\t` are read back as the character, `$` alone would be interpolated and
single quotes are literal but end at `\\'`, so a value ending in a backslash would run into the next line. Escaped
this way, a value holding ' " $ \\ # or a newline reaches the container unchanged and can never end its line early,
so it can never define a second variable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value):
    return '"%s"' % "".join(ESCAPES.get(ch, ch) for ch in u"%s" % (value,))


def line(name, value):
    return "%s=%s" % (name, quote(value))
