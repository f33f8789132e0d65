"""The blog served by graphene-django as an engineer who knows the ORM writes it: object types
from the models, and root fields whose resolvers join the author (select_related) and prefetch
each nested level once with Django's windowed (sliced) prefetches, so no level runs a query per
parent (the prefetched pages are kept in attributes of their own: Django cannot cache a sliced
prefetch on the related manager). Counts and the per-status counts run in the database."""
import graphene
from django.db.models import Count, Prefetch
from graphene_django import DjangoObjectType

from blog import models


class Tag(DjangoObjectType):
    class Meta:
        model = models.Tag
        fields = ("id", "name")


class Comment(DjangoObjectType):
    class Meta:
        model = models.Comment
        fields = ("id", "author_name", "body", "created_at")


class Post(DjangoObjectType):
    class Meta:
        model = models.Post
        fields = ("id", "title", "body", "status", "published_at", "view_count", "author", "comments", "tags")
        convert_choices_to_enum = False

    comments = graphene.List(graphene.NonNull(Comment), required=True)
    tags = graphene.List(graphene.NonNull(Tag), required=True)

    def resolve_comments(post, info):
        return post.comment_page

    def resolve_tags(post, info):
        return post.tag_page


class Author(DjangoObjectType):
    class Meta:
        model = models.Author
        fields = ("id", "name", "email", "posts")

    posts = graphene.List(graphene.NonNull(Post), required=True)

    def resolve_posts(author, info):
        return author.post_page


class StatusCount(graphene.ObjectType):
    status = graphene.String(required=True)
    count = graphene.Int(required=True)


class PostPage(graphene.ObjectType):
    results = graphene.List(graphene.NonNull(Post), required=True)
    total_count = graphene.Int(required=True)


def published_posts(status, newest_first):
    posts = models.Post.objects.filter(status=status).select_related("author")
    return posts.order_by("-published_at", "id") if newest_first else posts


class Query(graphene.ObjectType):
    author = graphene.Field(Author, id=graphene.ID(required=True))
    authors = graphene.List(graphene.NonNull(Author), required=True, limit=graphene.Int(required=True), per_level=graphene.Int(required=True))
    posts = graphene.List(
        graphene.NonNull(Post), required=True, status=graphene.String(required=True), newest_first=graphene.Boolean(default_value=False),
        offset=graphene.Int(default_value=0), limit=graphene.Int(required=True),
    )
    posts_page = graphene.Field(
        PostPage, required=True, status=graphene.String(required=True), newest_first=graphene.Boolean(default_value=False),
        offset=graphene.Int(default_value=0), limit=graphene.Int(required=True),
    )
    post_count = graphene.Int(required=True, status=graphene.String(required=True))
    posts_by_status = graphene.List(graphene.NonNull(StatusCount), required=True)

    def resolve_author(root, info, id):
        return models.Author.objects.filter(pk=id).first()

    def resolve_authors(root, info, limit, per_level):
        comments = Prefetch("comments", queryset=models.Comment.objects.order_by("id")[:per_level], to_attr="comment_page")
        tags = Prefetch("tags", queryset=models.Tag.objects.order_by("id")[:per_level], to_attr="tag_page")
        posts = Prefetch("posts", queryset=models.Post.objects.order_by("id").prefetch_related(comments, tags)[:per_level], to_attr="post_page")
        return models.Author.objects.order_by("id").prefetch_related(posts)[:limit]

    def resolve_posts(root, info, status, newest_first, offset, limit):
        return published_posts(status, newest_first)[offset : offset + limit]

    def resolve_posts_page(root, info, status, newest_first, offset, limit):
        posts = published_posts(status, newest_first)
        return PostPage(results=posts[offset : offset + limit], total_count=posts.count())

    def resolve_post_count(root, info, status):
        return models.Post.objects.filter(status=status).count()

    def resolve_posts_by_status(root, info):
        rows = models.Post.objects.values("status").annotate(n=Count("id")).order_by("status")
        return [StatusCount(status=r["status"], count=r["n"]) for r in rows]


schema = graphene.Schema(query=Query)
