"""Every built-in field class, option and model shape the import must map."""
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinLengthValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import ZONES, MoneyField, TaggableManager, TreeForeignKey


class TimeStamped(models.Model):
    """Abstract: its fields are flattened into every subclass."""

    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="Shown in menus.")
    slug = models.SlugField(unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Supplier(models.Model):
    """A string primary key."""

    code = models.CharField(max_length=20, primary_key=True)
    name = models.CharField(max_length=100)


class Product(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LIVE = "live", _("Live")
        RETIRED = "retired", _("Retired")

    id = models.BigAutoField(primary_key=True)
    sku = models.CharField(max_length=32, unique=True, validators=[RegexValidator(r"^[A-Z0-9-]+$")])
    name = models.CharField(max_length=200, validators=[MinLengthValidator(2)], verbose_name=_("product name"))
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    weight = models.FloatField(null=True, blank=True)
    stock = models.PositiveIntegerField(default=0)
    rating = models.SmallIntegerField(choices=[(1, "one"), (2, "two"), (3, "three")], null=True, blank=True)
    discount = models.IntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(90)])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    is_active = models.BooleanField(default=True)
    featured = models.BooleanField(null=True)
    code = models.UUIDField(default=uuid.uuid4, unique=True)
    homepage = models.URLField(blank=True)
    contact = models.EmailField(blank=True)
    released_on = models.DateField(null=True, blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    shelf_life = models.DurationField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    thumbnail = models.BinaryField(null=True, blank=True)
    manual = models.FileField(upload_to="manuals", blank=True)
    spec_path = models.FilePathField(path="/tmp", blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    big = models.BigIntegerField(default=0)
    small = models.PositiveSmallIntegerField(default=1)
    huge = models.PositiveBigIntegerField(default=0)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    suppliers = models.ManyToManyField(Supplier, through="Supply", related_name="products")
    comments = GenericRelation("Comment")

    class Meta:
        indexes = [models.Index(fields=["name"], name="catalog_product_name_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="price_non_negative"),
            models.UniqueConstraint(fields=["name", "category"], name="unique_name_per_category"),
            models.UniqueConstraint(fields=["sku"], condition=Q(is_active=True), name="active_sku"),
        ]


class Supply(models.Model):
    """An explicit many-to-many through model with data of its own."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE)
    cost = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        unique_together = [("product", "supplier")]


class DigitalProduct(Product):
    """Multi-table inheritance: its own table, linked to the parent's row."""

    download_url = models.URLField()


class ProductProxy(Product):
    class Meta:
        proxy = True


class Legacy(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        managed = False
        db_table = "legacy_things"


class Order(models.Model):
    number = models.UUIDField(primary_key=True, default=uuid.uuid4)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders")
    placed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "shop_orders"
        ordering = ["-placed_at"]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_column="order_ref")
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, related_name="+")
    by_sku = models.ForeignKey(Product, to_field="sku", on_delete=models.DO_NOTHING, null=True, db_constraint=False, related_name="lines_by_sku")
    quantity = models.PositiveIntegerField(default=1)


class Comment(models.Model):
    """A generic foreign key: a content type and an object id."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    body = models.TextField()


class Query(models.Model):
    """Named like a GraphQL root type, with fields named like keywords."""

    type = models.CharField(max_length=10, choices=[("", "none"), ("a", "A"), ("A", "big A"), ("x-y", "dash")], blank=True)
    _hidden = models.IntegerField(default=0, db_column="hidden")
    match = models.BooleanField(default=False)


class Node(models.Model):
    """A tree of priced, tagged nodes, built from third-party-style field classes."""
    name = models.CharField(max_length=50)
    parent = TreeForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    price = MoneyField(max_digits=10, decimal_places=2, default=Decimal("0"))
    labels = TaggableManager(Tag, blank=True, related_name="nodes")
    zone = models.CharField(max_length=8, choices=ZONES, default="zone_000")
    region = models.CharField(max_length=12, choices=[(f"r{i}", f"Region {i}") for i in range(120)], default="r0")
    title = models.CharField(max_length=40, default=_("Untitled"))


if getattr(settings, "CATALOG_AUDIT", False):
    class AuditEntry(models.Model):
        """Exists only while `settings.CATALOG_AUDIT` is on: a model that settings add."""
        at = models.DateTimeField(default=timezone.now)
        message = models.TextField()
