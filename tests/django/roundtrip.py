"""Seeds the sample project's database through the Django ORM, or reads back what the generated
server wrote, printing JSON. Run with the project on sys.path and SAMPLE_DB set:

    python roundtrip.py seed|read
"""
import datetime
import json
import os
import sys
import uuid
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample.settings")
import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402

from catalog.models import Category, DigitalProduct, Node, Order, OrderLine, Product, Query, Supplier, Supply, Tag  # noqa: E402
from people.models import Profile, User  # noqa: E402


def seed():
    ada = User.objects.create(username="ada", email="ada@example.com", first_name="Ada")
    tools = Category.objects.create(name="Tools", slug="tools")
    sale = Tag.objects.create(name="sale")
    hammer = Product.objects.create(
        sku="HAM-1", name="Hammer", price=Decimal("12.50"), category=tools, status=Product.Status.LIVE,
        released_on=datetime.date(2024, 5, 1), opens_at=datetime.time(9, 30), metadata={"weight": [1, 2]}, stock=7,
    )
    hammer.tags.add(sale)
    order = Order.objects.create(customer=ada, note="first")
    OrderLine.objects.create(order=order, product=hammer, quantity=2)
    acme = Supplier.objects.create(code="ACME", name="Acme")
    Supply.objects.create(product=hammer, supplier=acme, cost=Decimal("4.10"))
    Query.objects.create(type="x-y", match=True, _hidden=3)
    Profile.objects.create(user=ada, bio="from the ORM")
    DigitalProduct.objects.create(sku="EBOOK-1", name="Ebook", price=Decimal("3.00"), category=tools, download_url="https://example.com/ebook")
    root = Node.objects.create(name="root", price=Decimal("2.5"), price_currency="USD", zone="utc", region="r119")
    Node.objects.create(name="leaf", parent=root).labels.add(sale)
    print(json.dumps({"product_code": str(hammer.code), "order": str(order.pk)}))


def read():
    out = {
        "tags": sorted(Tag.objects.values_list("name", flat=True)),
        "products": [
            {
                "sku": p.sku, "name": p.name, "price": str(p.price), "status": p.status, "released_on": p.released_on and p.released_on.isoformat(),
                "stock": p.stock, "metadata": p.metadata, "tags": sorted(t.name for t in p.tags.all()), "category": p.category.name,
                "created": p.created.isoformat(), "code": str(p.code),
            }
            for p in Product.objects.order_by("id")
        ],
        # Lookups by value: Django compares UUIDs in its own stored form.
        "found_by_code": [Product.objects.filter(code=p.code).count() for p in Product.objects.order_by("id")],
        "orders": sorted(
            [{"number": o.number.hex, "note": o.note, "customer": o.customer.username, "lines": [l.quantity for l in o.lines.all()]}
             for o in Order.objects.all()],
            key=lambda o: o["note"],
        ),
        "order_by_pk": {o.note: Order.objects.get(pk=uuid.UUID(o.number.hex)).note for o in Order.objects.all()},
        "suppliers": {s.code: {"name": s.name, "costs": sorted(str(x.cost) for x in Supply.objects.filter(supplier=s))} for s in Supplier.objects.all()},
        "queries": sorted([q.type, q.match, q._hidden] for q in Query.objects.all()),
        "audit": [e.message for e in apps.get_model("catalog", "AuditEntry").objects.order_by("id")],
        "profiles": {p.user.username: p.bio for p in Profile.objects.all()},
        "digital": {d.sku: d.download_url for d in DigitalProduct.objects.all()},
        "nodes": [
            {"name": n.name, "parent": n.parent and n.parent.name, "price": str(n.price), "currency": n.price_currency, "zone": n.zone, "region": n.region,
             "labels": sorted(t.name for t in n.labels.all()), "title": n.title}
            for n in Node.objects.order_by("id")
        ],
    }
    print(json.dumps(out))


{"seed": seed, "read": read}[sys.argv[1]]()
