"""A swapped user model, a one-to-one primary key, and a model named like one in another app."""
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The project's user (AUTH_USER_MODEL), which other apps point at."""

    nickname = models.CharField(max_length=50, blank=True, help_text="Shown instead of the username.")


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile")
    bio = models.TextField(blank=True)
    birthday = models.DateField(null=True, blank=True)


class Tag(models.Model):
    """Same class name as catalog.Tag."""

    label = models.CharField(max_length=30)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="people_tags", blank=True)
