from django.urls import path

from wallets import api, internal_api

urlpatterns = [
    path("balance", api.BalanceView.as_view(), name="billing-balance"),
    path("deposit", api.DepositView.as_view(), name="billing-deposit"),
    path("transactions", api.TransactionsView.as_view(), name="billing-transactions"),
    path("revenue/total", api.RevenueTotalView.as_view(), name="billing-revenue-total"),
    path("account/create", internal_api.AccountCreateView.as_view(), name="billing-account-create"),
    path(
        "account/<int:user_id>",
        internal_api.AccountDeleteView.as_view(),
        name="billing-account-delete",
    ),
    path("charge", internal_api.ChargeView.as_view(), name="billing-charge"),
    path("refund", internal_api.RefundView.as_view(), name="billing-refund"),
]
