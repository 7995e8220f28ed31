from django.urls import path

from accounts import api

urlpatterns = [
    path("register", api.RegisterView.as_view(), name="register"),
    path("login", api.LoginView.as_view(), name="login"),
    path("token/refresh", api.TokenRefreshView.as_view(), name="token-refresh"),
    path("logout", api.LogoutView.as_view(), name="logout"),
    path("verify", api.VerifyView.as_view(), name="verify"),
    path("profile", api.ProfileView.as_view(), name="profile"),
    path("users/<int:user_id>", api.InternalUserView.as_view(), name="internal-user"),
    path("pending-credentials", api.PendingCredentialView.as_view(), name="pending-credentials"),
]
