"""Account pages on the base domain: staff password reset, sign-out, and "find my
organisation" (people sign in on their organisation's own address)."""

from django.urls import path

from . import recovery_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", recovery_views.public_login, name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("find/", recovery_views.find_organisation, name="find_organisation"),
    path("password/reset/", recovery_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", recovery_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        recovery_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
