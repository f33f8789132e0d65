"""Export a Django project's model metadata as a gqlauto dump (JSON).

Needs nothing but Django. Run it with the project's own interpreter, from anywhere:

    python exporter.py --project-dir PROJECT_DIR --settings mysite.settings [--apps a,b]
        [--exclude-apps x,y] [--output dump.json]

`gqlauto init --from-django` runs this same file; `gqlauto init --from-django-dump dump.json`
reads what it writes. The format is versioned (`format`, `version`) and documented in
docs/django.md. Problems with one model or field become entries in `warnings`; only a project
that cannot be loaded at all is an error, reported as {"error": {"kind", "message"}} with exit
status 3, never as a raw traceback.
"""

import argparse
import datetime
import decimal
import json
import os
import sys
import uuid

FORMAT = "gqlauto-django-dump"
VERSION = 1


def fail(kind, message):
    json.dump({"format": FORMAT, "version": VERSION, "error": {"kind": kind, "message": message}}, sys.stdout)
    sys.stdout.write("\n")
    sys.exit(3)


def dotted(obj):
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return f"{module}.{name}" if module else name


def text(value):
    """A lazily translated string, or anything else, as plain text (None stays None)."""
    if value is None:
        return None
    return str(value)


def json_value(value):
    """A default or choice value as JSON, or raise TypeError."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if hasattr(value, "value") and hasattr(value, "label"):  # a Choices member
        return json_value(value.value)
    raise TypeError(type(value).__name__)


def default_of(field):
    from django.db.models.fields import NOT_PROVIDED

    from django.utils.functional import Promise

    default = field.default
    if default is NOT_PROVIDED:
        return {"kind": "none"}
    if isinstance(default, Promise):
        # A lazily translated string: Django saves its text in the language active at the time.
        return {"kind": "value", "value": str(default), "translated": True}
    if callable(default):
        return {"kind": "callable", "name": dotted(default)}
    try:
        return {"kind": "value", "value": json_value(default)}
    except TypeError:
        return {"kind": "unserializable", "repr": repr(default)}


def choices_of(field):
    choices = getattr(field, "flatchoices", None) or []
    out = []
    for value, label in choices:
        try:
            out.append([json_value(value), text(label)])
        except TypeError:
            # A value of the field's own Python type (a ZoneInfo of a time-zone field): what the
            # column stores for it.
            try:
                out.append([json_value(field.get_prep_value(value)), text(label)])
            except Exception:
                out.append([repr(value), text(label)])
    return out or None


def validators_of(field):
    from django.core import validators as v

    out = []
    # Declared validators only: `field.validators` also holds the integer range of the database
    # connection and the max_length check, which the field's own type already says.
    declared = list(getattr(field, "default_validators", [])) + list(getattr(field, "_validators", []))
    for validator in declared:
        if isinstance(validator, v.MinLengthValidator):
            out.append({"kind": "min_length", "value": validator.limit_value})
        elif isinstance(validator, v.MaxLengthValidator):
            out.append({"kind": "max_length", "value": validator.limit_value})
        elif isinstance(validator, v.MinValueValidator):
            out.append({"kind": "min_value", "value": safe_json(validator.limit_value)})
        elif isinstance(validator, v.MaxValueValidator):
            out.append({"kind": "max_value", "value": safe_json(validator.limit_value)})
        elif isinstance(validator, v.RegexValidator) and not isinstance(validator, (v.EmailValidator,)):
            pattern = getattr(validator.regex, "pattern", None)
            out.append({"kind": "regex", "class": dotted(type(validator)), "pattern": pattern if isinstance(pattern, str) else None, "inverse": bool(validator.inverse_match)})
        elif isinstance(validator, v.EmailValidator):
            out.append({"kind": "email"})
        elif isinstance(validator, v.DecimalValidator):
            continue
        elif isinstance(validator, (v.ProhibitNullCharactersValidator,)):
            continue
        else:
            name = dotted(validator) if type(validator).__name__ == "function" else dotted(type(validator))
            out.append({"kind": "other", "class": name})
    return out


def safe_json(value):
    try:
        return json_value(value() if callable(value) else value)
    except Exception:
        return repr(value)


def accessor_of(remote):
    """The name Django gives the reverse side on the target model (`product_set`), or None when
    there is none (`related_name='+'`, a symmetrical relation to its own model)."""
    try:
        # `hidden` since Django 5.1, `is_hidden()` before.
        hidden = remote.hidden if hasattr(remote, "hidden") else remote.is_hidden()
        if hidden:
            return None
        return text(remote.get_accessor_name())
    except Exception:
        return None


def relation_of(field):
    remote = field.remote_field
    if remote is None:
        return None
    model = remote.model
    to = model if isinstance(model, str) else model._meta.label
    on_delete = getattr(remote, "on_delete", None)
    related_name = getattr(remote, "related_name", None)
    to_field = None
    if getattr(field, "many_to_many", False) is False and hasattr(field, "target_field"):
        try:
            to_field = field.target_field.name
        except Exception:
            to_field = None
    return {
        "to": to,
        "to_field": to_field,
        "on_delete": getattr(on_delete, "__name__", None),
        "related_name": text(related_name),
        "accessor": accessor_of(remote),
        "one_to_one": bool(getattr(field, "one_to_one", False)),
        "parent_link": bool(getattr(remote, "parent_link", False)),
    }


def field_of(field, connection):
    out = {
        "name": field.name,
        "attname": field.attname,
        "column": field.column,
        "class": dotted(type(field)),
        "internal_type": field.get_internal_type(),
        "db_type": None,
        "primary_key": bool(field.primary_key),
        "null": bool(field.null),
        "blank": bool(field.blank),
        "unique": bool(field.unique),
        "db_index": bool(field.db_index),
        "max_length": field.max_length,
        "max_digits": getattr(field, "max_digits", None),
        "decimal_places": getattr(field, "decimal_places", None),
        "choices": choices_of(field),
        "default": default_of(field),
        "auto_now": bool(getattr(field, "auto_now", False)),
        "auto_now_add": bool(getattr(field, "auto_now_add", False)),
        "help_text": text(field.help_text) or None,
        "verbose_name": text(field.verbose_name),
        "editable": bool(field.editable),
        "validators": validators_of(field),
        "relation": relation_of(field) if field.is_relation else None,
        "base_field": None,
    }
    try:
        out["db_type"] = field.db_type(connection)
    except Exception:
        pass
    base = getattr(field, "base_field", None)
    if base is not None:
        out["base_field"] = {"class": dotted(type(base)), "internal_type": base.get_internal_type(), "max_length": base.max_length}
    return out


def many_to_many_of(field):
    remote = field.remote_field
    through = remote.through
    through_meta = through._meta if not isinstance(through, str) else None
    out = {
        "name": field.name,
        "class": dotted(type(field)),
        "to": remote.model if isinstance(remote.model, str) else remote.model._meta.label,
        "related_name": text(remote.related_name),
        "accessor": accessor_of(remote),
        "through": through if isinstance(through, str) else through._meta.label,
        "auto_created": bool(through_meta and through_meta.auto_created),
        "db_table": through_meta.db_table if through_meta else None,
        "source_column": None,
        "target_column": None,
        "help_text": text(field.help_text) or None,
        "verbose_name": text(field.verbose_name),
    }
    try:
        out["source_column"] = field.m2m_column_name()
        out["target_column"] = field.m2m_reverse_name()
    except Exception:
        pass
    return out


def model_of(model, connection, warnings):
    meta = model._meta
    label = meta.label
    if meta.swapped:
        # Replaced by another model (AUTH_USER_MODEL): no table of its own.
        return {"app": meta.app_label, "name": meta.object_name, "label": label, "swapped": meta.swapped, "db_table": meta.db_table, "managed": False, "proxy": False, "fields": [], "many_to_many": []}
    fields, many = [], []
    generic = []
    try:
        from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
    except Exception:  # contenttypes not importable: no generic relations either
        GenericForeignKey = GenericRelation = ()
    for field in meta.get_fields(include_hidden=False):
        if field.auto_created and not field.concrete:
            continue  # reverse relations: the other side declares them
        if getattr(field, "model", model) is not model:
            continue  # inherited from a multi-table parent: stored in the parent's table
        kind = dotted(type(field))
        try:
            # By class, so that subclasses under other names count too.
            if isinstance(field, GenericForeignKey) or kind.endswith("GenericForeignKey"):
                generic.append({"name": field.name, "ct_field": field.ct_field, "fk_field": field.fk_field})
            elif isinstance(field, GenericRelation) or kind.endswith("GenericRelation"):
                generic.append({"name": field.name, "relation": True, "to": field.related_model._meta.label})
            elif getattr(field, "many_to_many", False):
                many.append(many_to_many_of(field))
            elif field.concrete:
                fields.append(field_of(field, connection))
            else:
                warnings.append({"model": label, "field": field.name, "message": f"{kind} has no column of its own: not exported"})
        except Exception as e:  # one field must not stop the export
            warnings.append({"model": label, "field": getattr(field, "name", None), "message": f"not exported: {type(e).__name__}: {e}"})
    constraints = []
    for c in meta.constraints:
        entry = {"name": c.name, "class": dotted(type(c))}
        if hasattr(c, "fields") and getattr(c, "fields", None) is not None and type(c).__name__ == "UniqueConstraint":
            entry.update(kind="unique", fields=list(c.fields), conditional=c.condition is not None, expressions=bool(getattr(c, "expressions", ())))
        elif type(c).__name__ == "CheckConstraint":
            condition = getattr(c, "condition", None) or getattr(c, "check", None)
            entry.update(kind="check", condition=str(condition))
        else:
            entry.update(kind="other")
        constraints.append(entry)
    return {
        "app": meta.app_label,
        "name": meta.object_name,
        "label": label,
        "db_table": meta.db_table,
        "managed": bool(meta.managed),
        "proxy": bool(meta.proxy),
        "swapped": meta.swapped,
        "doc": text(model.__doc__) if model.__doc__ and not model.__doc__.startswith(f"{meta.object_name}(") else None,
        "verbose_name": text(meta.verbose_name),
        "verbose_name_plural": text(meta.verbose_name_plural),
        "parents": [{"model": parent._meta.label, "link": link.name if link else None} for parent, link in meta.parents.items()],
        "pk": meta.pk.name if meta.pk else None,
        "fields": fields,
        "many_to_many": many,
        "generic": generic,
        "unique_together": [list(group) for group in meta.unique_together],
        "constraints": constraints,
        "indexes": [{"name": i.name, "fields": list(i.fields), "unique": False, "expressions": bool(getattr(i, "expressions", ()))} for i in meta.indexes],
        "ordering": [o if isinstance(o, str) else str(o) for o in (meta.ordering or [])],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="Export a Django project's models for gqlauto.")
    parser.add_argument("--project-dir", default=".")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--apps", default="")
    parser.add_argument("--exclude-apps", default="")
    parser.add_argument("--output", default="-")
    args = parser.parse_args(argv)

    project = os.path.abspath(args.project_dir)
    if not os.path.isdir(project):
        fail("project", f"the project directory {project} does not exist")
    sys.path.insert(0, project)
    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    try:
        import django
    except ImportError:
        fail("django", f"Django is not installed for {sys.executable}; use the project's own interpreter (--python)")
    try:
        django.setup()
    except Exception as e:
        fail("setup", f"Django could not load the project with settings `{args.settings}`: {type(e).__name__}: {e}")

    from django.apps import apps
    from django.conf import settings
    from django.db import connection

    only = {a for a in args.apps.split(",") if a}
    excluded = {a for a in args.exclude_apps.split(",") if a}
    known = {c.label for c in apps.get_app_configs()}
    for label in sorted((only | excluded) - known):
        fail("apps", f"no installed app is labelled `{label}`; installed: {', '.join(sorted(known))}")

    warnings = []
    models = []
    for model in apps.get_models(include_auto_created=False, include_swapped=True):
        meta = model._meta
        if only and meta.app_label not in only or meta.app_label in excluded:
            continue
        try:
            models.append(model_of(model, connection, warnings))
        except Exception as e:
            warnings.append({"model": meta.label, "field": None, "message": f"not exported: {type(e).__name__}: {e}"})
    models.sort(key=lambda m: m["label"])
    dump = {
        "format": FORMAT,
        "version": VERSION,
        "django": django.get_version(),
        "settings": args.settings,
        "auth_user_model": getattr(settings, "AUTH_USER_MODEL", None),
        "database_vendor": connection.vendor,
        "models": models,
        "warnings": warnings,
    }
    text_out = json.dumps(dump, indent=1, sort_keys=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text_out)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text_out)


if __name__ == "__main__":
    main()
