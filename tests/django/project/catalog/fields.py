"""Field classes written after popular third-party packages, to show how the import treats classes
it does not know: by what they store (their `get_internal_type()`), with a warning naming them."""
from django.db import models


class TreeForeignKey(models.ForeignKey):
    """After django-mptt's TreeForeignKey: a foreign key to the parent node."""


class TaggableManager(models.ManyToManyField):
    """After django-taggit's TaggableManager: tags behind a manager of their own."""


class MoneyField(models.DecimalField):
    """After django-money's MoneyField: an amount, and a currency column the field adds to the
    model when it is attached (a field added at run time, not written in the model's class)."""

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        # Models rebuilt from migrations already carry the currency field.
        if not cls._meta.abstract and cls.__module__ != "__fake__":
            cls.add_to_class(f"{name}_currency", models.CharField(max_length=3, default="EUR", editable=False))


# After django-timezone-field: hundreds of choices, some of which differ only in case.
ZONES = [(f"zone_{i:03}", f"Zone {i}") for i in range(300)] + [("utc", "utc"), ("UTC", "UTC")]
