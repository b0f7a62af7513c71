from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("settings/", views.settings_page, name="settings"),
    path("tokens/", views.api_token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke, name="token_revoke"),
    path("members/", views.member_list, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:user_id>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("members/<int:user_id>/activate/", views.member_activate, name="member_activate"),
]
