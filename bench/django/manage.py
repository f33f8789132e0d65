#!/usr/bin/env python
"""The Django blog the peer benchmark serves: `migrate`, `seed`, and `runserver` as usual."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blogbench.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
