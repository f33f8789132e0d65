"""/graphql/ is the peer named by BENCH_PEER; CSRF is off as for any API called with tokens."""
from django.conf import settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

urlpatterns = []
if settings.PEER == "strawberry":
    from strawberry.django.views import GraphQLView

    from blog.strawberry_api import schema

    urlpatterns.append(path("graphql/", csrf_exempt(GraphQLView.as_view(schema=schema, graphql_ide=None))))
elif settings.PEER == "graphene":
    from graphene_django.views import GraphQLView

    urlpatterns.append(path("graphql/", csrf_exempt(GraphQLView.as_view(graphiql=False))))
