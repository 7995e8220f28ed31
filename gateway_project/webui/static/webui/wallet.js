// The wallet: balance, deposits (checked here and again by billing) and the ledger, in pages.
import { api } from "./api.js";
import { $, cents, dollars, emptyRow, fieldError, notify, row, showBalance } from "./ui.js";

const PAGE = 10;
const MAX_DEPOSIT_DOLLARS = 10000;
let offset = 0;

export async function loadTransactions(from = 0) {
  const query = new URLSearchParams({ limit: PAGE, offset: from });
  const data = await api("GET", `/api/billing/transactions?${query}`);
  offset = from;
  const rows = data.transactions.map((entry) => row(
    new Date(entry.createdAt).toLocaleString(),
    [entry.type, entry.description].filter(Boolean).join(": "),
    dollars(entry.amount),
    dollars(entry.balanceAfter),
  ));
  $("#transactions tbody").replaceChildren(...rows);
  if (!rows.length) $("#transactions tbody").append(emptyRow("No transactions yet.", 4));
  const last = Math.min(from + PAGE, data.total);
  $("#tx-page").textContent = data.total ? `${from + 1}-${last} of ${data.total}` : "";
  $("#tx-prev").disabled = from <= 0;
  $("#tx-next").disabled = last >= data.total;
  showBalance(data.transactions.length && from === 0
    ? data.transactions[0].balanceAfter : (await api("GET", "/api/billing/balance")).balance);
}

$("#deposit").onsubmit = async (event) => {
  event.preventDefault();
  const field = event.target.elements.dollars;
  const amount = cents(field.value, { min: 1, max: MAX_DEPOSIT_DOLLARS * 100 });
  fieldError(field, amount === null
    ? `Enter an amount from $0.01 to $${MAX_DEPOSIT_DOLLARS}, in dollars and cents.` : "");
  if (amount === null) return field.focus();
  try {
    const data = await api("POST", "/api/billing/deposit", { amount });
    showBalance(data.newBalance);
    notify(`${data.message}: ${dollars(amount)}.`, true);
    await loadTransactions(0);
  } catch (error) {
    fieldError(field, error.message);
  }
};

const page = (from) => loadTransactions(from).catch((error) => notify(error.message));
$("#tx-prev").onclick = () => page(Math.max(0, offset - PAGE));
$("#tx-next").onclick = () => page(offset + PAGE);
