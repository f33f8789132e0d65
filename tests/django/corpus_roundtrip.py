"""The corpus round trip, on Django's side. Run from the corpus project with its database set:

    python corpus_roundtrip.py seed PLAN OUT   rows made by the ORM for every table in PLAN
    python corpus_roundtrip.py find WRITTEN OUT  rows written over GraphQL, looked up by the ORM

PLAN is a JSON list of table names. `seed` makes two rows per model with model_bakery, every field
filled: row `a` stays (the API must read it as Django wrote it); row `b` is recorded and deleted,
so its values can be written again through the API. Values are written as JSON by column:
date-times in UTC ISO form, decimals and UUIDs as strings, durations in microseconds.

WRITTEN maps a table to `{"pk": ..., "values": {column: json}}`: the key the API gave the row it
created from `b`'s values. `find` looks the row up by its key and by each value with Django's own
lookups (exact, and `gte`/`lte` for ordered types) and reports every lookup that finds nothing.
"""
import datetime
import decimal
import itertools
import json
import os
import random
import sys
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "corpus.settings")
import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.db import models, transaction  # noqa: E402
from model_bakery import baker, generators  # noqa: E402

# Keys for integer primary keys the database does not number, one per row made.
GIVEN_KEYS = itertools.count(101)
GIVEN_KEY_TYPES = (
    "IntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "BigIntegerField", "PositiveBigIntegerField",
)

ORDERED = (
    models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField, models.FloatField,
    models.DecimalField, models.DateField, models.DateTimeField, models.TimeField, models.CharField, models.TextField,
)


def by_table(tables):
    found = {m._meta.db_table: m for m in apps.get_models() if not m._meta.proxy}
    return {t: found[t] for t in tables if t in found}


def as_json(value):
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.replace(tzinfo=datetime.timezone.utc).isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value // datetime.timedelta(microseconds=1)
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return None
    return str(value)


def reads_its_own_way(field):
    """A third-party field that turns what the column holds into something else when Django reads
    it (an empty string for NULL, a list for comma-separated text): the column is compared."""
    owner = next((c for c in type(field).__mro__ if "from_db_value" in c.__dict__), None)
    return owner is not None and not owner.__module__.startswith("django.")


def columns(obj):
    """The row's values by column, as Django reads them (or as stored, see `reads_its_own_way`)."""
    from django.db import connection

    model = type(obj)
    fresh = model._base_manager.get(pk=obj.pk)
    out = {f.column: as_json(getattr(fresh, f.attname)) for f in model._meta.concrete_fields}
    own_way = [f for f in model._meta.concrete_fields if reads_its_own_way(f)]
    if own_way:
        q = connection.ops.quote_name
        with connection.cursor() as c:
            c.execute(
                f"SELECT {', '.join(q(f.column) for f in own_way)} FROM {q(model._meta.db_table)} WHERE {q(model._meta.pk.column)} = %s",
                [model._meta.pk.get_db_prep_value(obj.pk, connection)],
            )
            out.update({f.column: as_json(v) for f, v in zip(own_way, c.fetchone())})
    return out


def matching(regex, max_length):
    """A string the regex matches, of at most `max_length` characters, that UTF-8 can encode."""
    import rstr

    generator = rstr.Rstr(random.Random(len(regex.pattern)))
    for _ in range(20):
        value = generator.xeger(regex)[: max_length or None]
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            continue
        if regex.search(value):
            return value
    return value


def within_validators(row):
    """Puts back within the field's own validators a value the ORM saved without running them (a
    random number below a minimum, a string a model's save() made longer than its max_length, an
    empty choice): the API checks them on every write. Values no simple repair fits stay as made."""
    from django.core import validators as v
    from django.core.exceptions import ValidationError

    fixed = {}
    for field in type(row)._meta.concrete_fields:
        if field.is_relation or field.primary_key:
            continue
        value = getattr(row, field.attname)
        try:
            field.clean(value, row)
            continue
        except ValidationError:
            pass
        except Exception:
            continue
        if field.choices:
            value = next(c for c, _ in field.flatchoices if c not in ("", None))
        for validator in field.validators:
            if isinstance(validator, v.RegexValidator) and not validator.inverse_match and isinstance(value, str):
                value = matching(validator.regex, field.max_length)
            if isinstance(validator, v.MaxLengthValidator) and isinstance(value, str):
                value = value[: validator.limit_value]
            elif isinstance(validator, v.MinValueValidator) and value is not None and value < validator.limit_value:
                value = validator.limit_value
            elif isinstance(validator, v.MaxValueValidator) and value is not None and value > validator.limit_value:
                value = validator.limit_value
        fixed[field.attname] = value
    if fixed:
        type(row)._base_manager.filter(pk=row.pk).update(**fixed)


def teach_baker(all_models):
    """Third-party field classes (an app's own SlugField, a ParentalKey) get the generator of the
    nearest Django class they extend, as they store what it stores."""
    known = generators.get_type_mapping()
    for model in all_models:
        for field in model._meta.get_fields():
            cls = type(field)
            if cls in known or generators.get(cls):
                continue
            base = next((b for b in cls.__mro__[1:] if b in known), None)
            if base is not None:
                generators.user_mapping[cls] = known[base]


def is_tree(model):
    """A materialized-path tree (treebeard's MP_Node: wagtail's pages, Oscar's categories): rows are
    added through the tree's own API, which computes their path and depth."""
    return any(b.__name__ == "MP_Node" for b in model.__mro__)


def validates_email(field):
    from django.core.validators import EmailValidator

    by_validator = any(isinstance(v, EmailValidator) for v in field.validators) or field.name.endswith("email")
    return by_validator and isinstance(field, models.CharField) and not isinstance(field, models.EmailField)


def needs_care(model, depth=0):
    """Whether a row of `model` must be made by `make` rather than by model_bakery's own recursion:
    it is a tree node, needs a value `fixed_values` gives, or points at such a row."""
    if is_tree(model) or depth > 3:
        return is_tree(model)
    for field in model._meta.concrete_fields:
        if validates_email(field) or field.name == "polymorphic_ctype":
            return True
        target = field.related_model if field.is_relation else None
        if target is not None and target is not model and not field.null and needs_care(target, depth + 1):
            return True
    return False


def fixed_values(model, depth=0):
    """Values no random generator gets right, given the way the app's own code would: an email in
    a text column that validates as one, the content type of a polymorphic row, an existing node
    for a foreign key into a tree."""
    from django.contrib.contenttypes.models import ContentType

    values = {}
    for generic in model._meta.private_fields:
        # A generic foreign key points at a row that exists: a group made for it.
        if type(generic).__name__ == "GenericForeignKey":
            from django.contrib.auth.models import Group

            group = Group.objects.create(name=f"group {uuid.uuid4().hex}")
            values[generic.ct_field] = ContentType.objects.get_for_model(Group)
            values[generic.fk_field] = str(group.pk)
            # An object permission (django-guardian) is one of that object's own permissions.
            if any(f.name == "permission" for f in model._meta.concrete_fields):
                from django.contrib.auth.models import Permission

                values["permission"] = Permission.objects.filter(content_type=values[generic.ct_field]).first()
    for field in model._meta.concrete_fields:
        if field.primary_key and not field.is_relation and field.get_internal_type() in GIVEN_KEY_TYPES:
            # A number the project's code gives each row (django-celery-beat's `PeriodicTasks.ident`
            # defaults to 1): a new one for every row, small enough for a SmallIntegerField.
            values[field.name] = next(GIVEN_KEYS)
            continue
        if (field.primary_key and not field.is_relation) or field.auto_created or field.name in values:
            continue
        if field.name == "action" and model._meta.app_label.startswith("wagtail"):
            # Wagtail logs only actions registered with it.
            values[field.name] = "wagtail.create"
        elif validates_email(field):
            values[field.name] = f"user{uuid.uuid4().hex[:8]}@example.com"
        elif field.name == "polymorphic_ctype" or (field.name == "content_type" and is_tree(model)):
            values[field.name] = ContentType.objects.get_for_model(model, for_concrete_model=False)
        elif field.is_relation and not field.null and depth < 3 and field.related_model not in (None, model) and needs_care(field.related_model):
            values[field.name] = make(field.related_model, depth + 1)[0]
    return values


def bake(model, fill, depth=0):
    values = fixed_values(model, depth)
    if not is_tree(model):
        return baker.make(model, _fill_optional=fill, **values)
    node = baker.prepare(model, _fill_optional=fill, _save_related=True, **values)
    node.path, node.depth, node.numchild = None, None, 0
    root = model.get_first_root_node()
    if root is None or type(root) is not model and not issubclass(model, type(root)):
        return model.add_root(instance=node)
    return root.add_child(instance=node)


def make(model, depth=0):
    """A row with every field filled, or, where a field's value cannot be made, the required ones."""
    try:
        return bake(model, True, depth), None
    except Exception as full:
        try:
            return bake(model, False, depth), f"optional fields left empty: {type(full).__name__}: {full}"
        except Exception as e:
            raise RuntimeError(f"{type(e).__name__}: {e}") from e


def remove(row):
    """Deletes a `b` row, so the API can write its values again. Only that row goes, by its key:
    an app's delete signals would take other rows with it (Oscar deletes an offer's condition,
    treebeard moves a tree's paths), and a child of multi-table inheritance keeps the row it
    extends, for the API to create the child under it again. A row something else still points
    at is deleted the ORM's way, with what Django cascades to."""
    from django.db import IntegrityError, connection

    meta = type(row)._meta
    try:
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute(
                    f"DELETE FROM {connection.ops.quote_name(meta.db_table)} WHERE {connection.ops.quote_name(meta.pk.column)} = %s",
                    [meta.pk.get_db_prep_value(row.pk, connection)],
                )
            # SQLite checks deferred references at the end of the transaction: here.
            connection.check_constraints(table_names=None)
    except IntegrityError:
        if meta.parents:
            raise
        with transaction.atomic():
            type(row)._base_manager.filter(pk=row.pk).delete()


def seed(plan, out):
    tables = json.load(open(plan))
    # The same values every run (model_bakery draws from `random`).
    random.seed(0)
    teach_baker(apps.get_models())
    result = {}
    from django.db import connection

    existing = set(connection.introspection.table_names())
    chosen = sorted((t, m) for t, m in by_table(tables).items())
    kept = []
    # Every `a` first, then every `b`, and `b` rows deleted last: a row made later (a node of a
    # tree) never takes a place a deleted `b` frees, so `b` can be written again as it was.
    for table, model in chosen:
        if table not in existing:
            result[table] = {"no_table": "Django's migrations do not create it (an unmanaged model)"}
            continue
        try:
            a, note = make(model)
            result[table] = {"pk": as_json(a.pk), "note": note}
            kept.append((table, a))
        except Exception as e:
            result[table] = {"error": f"{type(e).__name__}: {e}"}
    made = []
    for table, model in chosen:
        if "pk" not in result.get(table, {}):
            continue
        try:
            b, _ = make(model)
            within_validators(b)
            result[table]["b"] = columns(b)
            made.append((table, b))
        except Exception as e:
            result[table]["b_error"] = f"{type(e).__name__}: {e}"
    for table, b in reversed(made):
        try:
            remove(b)
        except Exception as e:
            del result[table]["b"]
            result[table]["b_error"] = f"it could not be deleted to be written again: {type(e).__name__}: {e}"
    # `a` as it is once everything is made: rows made later may change it (a tree's child count,
    # a search index entry its app refreshes).
    for table, a in kept:
        try:
            result[table]["a"] = columns(a)
        except Exception as e:
            result[table] = {"error": f"it is gone after the other rows were made: {type(e).__name__}: {e}"}
    missing = sorted(set(tables) - set(result))
    json.dump({"rows": result, "missing": missing}, open(out, "w"), indent=1, sort_keys=True)


def find(written, out):
    rows = json.load(open(written))
    models_by_table = by_table(rows)
    report = {}
    for table, row in sorted(rows.items()):
        model = models_by_table[table]
        meta = model._meta
        failures = []
        pk = meta.pk.to_python(row["pk"])
        base = model._base_manager.filter(pk=pk)
        if not base.exists():
            report[table] = [f"no row with key {row['pk']!r}"]
            continue
        for field in meta.concrete_fields:
            if field.column not in row["values"] or field.primary_key:
                continue
            given = row["values"][field.column]
            if given is None:
                lookups = {f"{field.attname}__isnull": True}
            else:
                target = field.target_field if field.is_relation else field
                value = target.to_python(given)
                if isinstance(field, models.DurationField):
                    value = datetime.timedelta(microseconds=given)
                lookups = {field.attname: value}
                if isinstance(target, ORDERED) and not field.is_relation and not getattr(field, "choices", None):
                    lookups.update({f"{field.attname}__gte": value, f"{field.attname}__lte": value})
            for lookup, value in lookups.items():
                try:
                    found = base.filter(**{lookup: value}).exists()
                except Exception as e:
                    found = False
                    lookup = f"{lookup} ({type(e).__name__}: {e})"
                if not found:
                    stored = as_json(base.values_list(field.attname, flat=True).first())
                    failures.append(f"{field.name}: filter({lookup}={given!r}) finds nothing; Django reads {stored!r}")
        report[table] = failures
    json.dump(report, open(out, "w"), indent=1, sort_keys=True)


def tag(plan, out):
    """Tags each row of a tag manager through a generic model (taggit's) the app's own way, and
    makes one more tag for the API to link."""
    items = json.load(open(plan))
    result = {}
    for item in items:
        model = by_table([item["table"]])[item["table"]]
        obj = model._base_manager.get(pk=model._meta.pk.to_python(item["pk"]))
        getattr(obj, item["field"]).add("from-django-1", "from-django-2")
        tag_model = model._meta.get_field(item["field"]).related_model
        extra = tag_model.objects.create(name=f"from-api-{item['table']}")
        result[item["table"]] = as_json(extra.pk)
    json.dump(result, open(out, "w"), indent=1, sort_keys=True)


def tagged(plan, out):
    """What Django reads of the tags the API linked: the manager's names, and its lookup by name."""
    items = json.load(open(plan))
    report = {}
    for item in items:
        model = by_table([item["table"]])[item["table"]]
        pk = model._meta.pk.to_python(item["pk"])
        obj = model._base_manager.get(pk=pk)
        failures = []
        names = sorted(getattr(obj, item["field"]).names())
        want = sorted(["from-django-2", f"from-api-{item['table']}"])
        if names != want:
            failures.append(f"the manager reads {names}, not {want}")
        lookup = {f"{item['field']}__name": f"from-api-{item['table']}"}
        if not model._base_manager.filter(pk=pk, **lookup).exists():
            failures.append(f"filter({lookup}) does not find the row")
        report[item["table"]] = failures
    json.dump(report, open(out, "w"), indent=1, sort_keys=True)


{"seed": seed, "find": find, "tag": tag, "tagged": tagged}[sys.argv[1]](*sys.argv[2:])
