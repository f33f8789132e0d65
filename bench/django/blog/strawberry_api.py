"""The blog served by strawberry-graphql-django as its documentation teaches: types from the
models, its filter, ordering and pagination inputs, the query optimizer (select_related,
prefetch_related and only() from the selection, windowed prefetches for nested pages), and the
parser and validation caches."""
import strawberry
import strawberry_django
from django.db.models import Count
from strawberry import auto
from strawberry.extensions import ParserCache, ValidationCache
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.pagination import OffsetPaginated

from blog import models


@strawberry_django.type(models.Tag)
class Tag:
    id: auto
    name: auto


@strawberry_django.type(models.Comment)
class Comment:
    id: auto
    author_name: auto
    body: auto
    created_at: auto


@strawberry_django.filter_type(models.Post, lookups=True)
class PostFilter:
    status: auto


@strawberry_django.order_type(models.Post)
class PostOrder:
    id: auto
    published_at: auto


@strawberry_django.type(models.Post)
class Post:
    id: auto
    title: auto
    body: auto
    status: auto
    published_at: auto
    view_count: auto
    author: "Author"
    comments: list[Comment] = strawberry_django.field(pagination=True)
    tags: list[Tag] = strawberry_django.field(pagination=True)


@strawberry_django.type(models.Author)
class Author:
    id: auto
    name: auto
    email: auto
    posts: list[Post] = strawberry_django.field(pagination=True)


@strawberry.type
class StatusCount:
    status: str
    count: int


@strawberry.type
class Query:
    author: Author | None = strawberry_django.field()
    authors: list[Author] = strawberry_django.field(pagination=True)
    posts: list[Post] = strawberry_django.field(filters=PostFilter, ordering=PostOrder, pagination=True)
    posts_page: OffsetPaginated[Post] = strawberry_django.offset_paginated(filters=PostFilter, ordering=PostOrder)

    @strawberry.field
    def post_count(self, status: str) -> int:
        return models.Post.objects.filter(status=status).count()

    @strawberry.field
    def posts_by_status(self) -> list[StatusCount]:
        rows = models.Post.objects.values("status").annotate(n=Count("id")).order_by("status")
        return [StatusCount(status=r["status"], count=r["n"]) for r in rows]


schema = strawberry.Schema(
    query=Query,
    extensions=[DjangoOptimizerExtension, ParserCache(maxsize=100), ValidationCache(maxsize=100)],
)
