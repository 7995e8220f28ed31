// Signing in, registering (the saga), signing out, and the profile.
import { api, dropTokens, keepTokens, scheduleRefresh, signedIn, whenSignedOut } from "./api.js";
import { endStream } from "./player.js";
import { $, clearFieldErrors, formData, notify, showBalance, showFieldErrors } from "./ui.js";

const SAGA_POLL_MS = 1000;

export async function showAccount() {
  const yes = signedIn();
  $("#account").hidden = yes;
  $("#nav").hidden = !yes;
  $("#logout").hidden = !yes;
  if (!yes) {
    $("#who").textContent = "not signed in";
    $("#balance").textContent = "";
    return;
  }
  try {
    const me = await api("POST", "/api/auth/verify");
    $("#who").textContent = `${me.firstName} ${me.lastName}`;
    showBalance((await api("GET", "/api/billing/balance")).balance);
  } catch (error) {
    if (error.status === 401 || error.status === 403) signOut("Your session expired; sign in again.");
    else notify(error.message);
  }
}

export function signOut(message) {
  dropTokens();
  showAccount();
  location.hash = "#catalog";
  if (message) notify(message);
}

whenSignedOut(signOut);

async function signIn(email, password) {
  keepTokens(await api("POST", "/api/auth/login", { email, password }));
  await showAccount();
}

// The profile: who the viewer is, and their name, which they may change.
export async function loadProfile() {
  const me = await api("GET", "/api/auth/profile");
  $("#profile-email").textContent = me.email;
  $("#profile-since").textContent = new Date(me.createdAt).toLocaleDateString();
  $("#profile-role").textContent = me.isStaff ? "staff" : "viewer";
  const form = $("#profile-form");
  form.elements.firstName.value = me.firstName;
  form.elements.lastName.value = me.lastName;
  clearFieldErrors(form);
}

$("#profile-form").onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  try {
    const answer = await api("PUT", "/api/auth/profile", formData(form));
    $("#who").textContent = `${answer.user.firstName} ${answer.user.lastName}`;
    notify("Profile saved.", true);
  } catch (error) {
    if (!showFieldErrors(form, error)) notify(error.message);
  }
};

$("#login").onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  try {
    const fields = formData(form);
    await signIn(fields.email, fields.password);
    notify("Signed in.", true);
  } catch (error) {
    if (!showFieldErrors(form, error)) notify(error.message);
  }
};

$("#register").onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  const fields = formData(form);
  try {
    // The registration saga: user, wallet and analytics profile, or none of them.
    let saga = await api("POST", "/api/saga/register", fields);
    while (saga.status === "running" || saga.status === "compensating") {
      await new Promise((resolve) => setTimeout(resolve, SAGA_POLL_MS));
      saga = await api("GET", `/api/saga/${saga.sagaId}`);
    }
    if (!saga.success) throw new Error(saga.message);
    await signIn(fields.email, fields.password);
    notify("Welcome! Deposit some funds, then pick a video.", true);
  } catch (error) {
    if (!showFieldErrors(form, error)) notify(error.message);
  }
};

$("#logout").onclick = async () => {
  await endStream();
  const refreshToken = localStorage.getItem("refreshToken");
  // The refresh token is revoked, so a copy of it left anywhere signs nobody in.
  if (refreshToken) await api("POST", "/api/auth/logout", { refreshToken }).catch(() => {});
  signOut();
  notify("Signed out.", true);
};

scheduleRefresh();
