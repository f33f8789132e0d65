"""Fills the blog with the benchmark's rows, the same every time: 2,000 authors, 20,000 posts
(10 each, ~500-byte bodies, two in three published, each at its own minute), 100,000 comments
(5 per post), 50 tags (2 per post)."""
from datetime import datetime, timedelta, timezone

from django.core.management.base import BaseCommand
from django.db import transaction

from blog.models import Author, Comment, Post, Tag

WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".split()


def text(seed, size):
    out, i = [], seed
    while sum(len(w) + 1 for w in out) < size:
        out.append(WORDS[i % len(WORDS)])
        i = i * 31 + 7
    return " ".join(out)[:size]


class Command(BaseCommand):
    help = "Seeds the benchmark's rows into an empty, migrated database."

    def add_arguments(self, parser):
        parser.add_argument("--authors", type=int, default=2000)

    @transaction.atomic
    def handle(self, *args, authors, **options):
        start = datetime(2024, 1, 1, tzinfo=timezone.utc)
        Tag.objects.bulk_create([Tag(id=t, name=f"tag-{t:02}") for t in range(1, 51)])
        Author.objects.bulk_create(
            [Author(id=a, name=f"Author {a}", email=f"author{a}@example.com", bio=text(a, 120)) for a in range(1, authors + 1)],
            batch_size=2000,
        )
        posts = []
        for p in range(1, authors * 10 + 1):
            published = p % 3 != 0
            posts.append(
                Post(
                    id=p,
                    author_id=(p - 1) // 10 + 1,
                    title=f"Post {p}",
                    body=text(p, 500),
                    status=Post.Status.PUBLISHED if published else Post.Status.DRAFT,
                    published_at=start + timedelta(minutes=p * 7 % 100_003) if published else None,
                    view_count=p * 37 % 1000,
                )
            )
        Post.objects.bulk_create(posts, batch_size=2000)
        links = Post.tags.through
        links.objects.bulk_create(
            [links(post_id=p, tag_id=t) for p in range(1, authors * 10 + 1) for t in (p % 50 + 1, (p * 7 + 3) % 50 + 1)],
            batch_size=5000,
        )
        Comment.objects.bulk_create(
            [
                Comment(post_id=(c - 1) // 5 + 1, author_name=f"reader {c % 97}", body=text(c, 120), created_at=start + timedelta(seconds=c * 13))
                for c in range(1, authors * 50 + 1)
            ],
            batch_size=5000,
        )
        self.stdout.write(f"seeded {authors} authors, {len(posts)} posts, {authors * 50} comments, 50 tags")
