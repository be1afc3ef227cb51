from django.urls import path

from accounts import tokens, views

urlpatterns = [
    path("tokens/", tokens.token_list, name="token_list"),
    path("tokens/new/", tokens.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/members/", views.team_members, name="team_members"),
]
