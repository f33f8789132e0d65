"""Audit history of two contrib models, registered with django-simple-history the way projects
register models they do not own. Its generated models keep the original `id` beside their own key
(`history_id`), and the history of a many-to-many field is a model named
`HistoricalFlatPage_sites`."""
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from simple_history import register

register(FlatPage, app="history", m2m_fields=["sites"])
register(Site, app="history")
