from django.urls import path

from . import recovery_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", recovery_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", recovery_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        recovery_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("invitation/<str:token>/", recovery_views.invitation_accept, name="invitation_accept"),
    path("verify/<str:token>/", recovery_views.email_verify, name="email_verify"),
    path("verify-again/", recovery_views.email_verification_resend, name="email_verification_resend"),
    path("email/", recovery_views.email_change, name="email_change"),
    path("welcome/", recovery_views.signup_welcome, name="signup_welcome"),
    path("settings/", views.settings_page, name="settings"),
    path("tokens/", views.api_token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke, name="token_revoke"),
    path("members/", views.member_list, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:user_id>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("members/<int:user_id>/activate/", views.member_activate, name="member_activate"),
    path("members/<int:user_id>/reset-password/", views.member_password_reset, name="member_password_reset"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]
